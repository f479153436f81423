import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Profile } from 'pprof-format';
import { toPprofProfiles } from '../../../src/profiles/pprof/otlp-to-pprof.js';
import { buildSinkRequest, CPU_PERIOD } from '../../support/sinks-fixtures.js';

const INT64_MAX = (1n << 63n) - 1n;

/** The sink's request with the CPU sample of stack 2 holding `value`. */
function requestWith(value: bigint): ReturnType<typeof buildSinkRequest> {
  const request = buildSinkRequest();
  const cpu = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
  const sample = cpu.samples.find((s) => s.stackIndex === 2)!;
  sample.values = [value];
  return request;
}

describe('pprof output: values past int64', () => {
  it('a CPU count whose time (count × period) passes int64 is split into samples that each fit, nothing lost', () => {
    const count = 1_000_000_000_000n; // × 20,408,163 ns ≈ 2 · 10^19
    const cpu = toPprofProfiles(requestWith(count))[0]!;
    // Round trip through the pprof encoding: int64 values wrap there if they do not fit.
    const decoded = Profile.decode(cpu.profile.encode());
    const values = decoded.sample.map((s) => s.value.map((v) => BigInt(v)));
    const before = toPprofProfiles(requestWith(5n))[0]!.profile.sample.length;
    assert.ok(values.length > before, 'the sample was split');
    for (const [n, ns] of values) {
      assert.ok(n! > 0n && ns! > 0n && ns! <= INT64_MAX, `${n} / ${ns}`);
      assert.equal(ns, n! * CPU_PERIOD);
    }
    const total = values.reduce((a, [n]) => a + n!, 0n);
    assert.equal(total, count + 3n + 2n + 3n + 1n, 'every count kept (the fixture has 9 besides)');
  });

  it('a value that would need more than 1,024 pieces is refused with the reason, not wrapped', () => {
    assert.throws(() => toPprofProfiles(requestWith(INT64_MAX)), /does not fit pprof's int64 values/);
  });
});
