import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { toPprofProfiles } from '../../../src/profiles/pprof/otlp-to-pprof.js';
import {
  buildSinkRequest,
  CPU_EXPECTED,
  CPU_PERIOD,
  GNU_BUILD_ID,
  HTL_HASH,
  MALLOC_EXPECTED,
  SPAN_ID_HEX,
  T0,
  TRACE_ID_HEX,
} from '../../support/sinks-fixtures.js';
import { columnTotal, pprofProblems, sampleLabels, sampleStack, str } from '../../support/sinks-pprof.js';

function convert() {
  const files = toPprofProfiles(buildSinkRequest());
  assert.equal(files.length, 2, 'one pprof profile per OTLP profile');
  // Round trip through the on-disk form, so the checks see what go tool pprof would read.
  const decoded = files.map((f) => Profile.decode(gunzipSync(gzipSync(f.profile.encode()))));
  return { files, cpu: decoded[0]!, malloc: decoded[1]! };
}

function bySample(p: Profile): Map<string, { values: bigint[]; labels: Record<string, string | bigint> }> {
  const out = new Map<string, { values: bigint[]; labels: Record<string, string | bigint> }>();
  for (const s of p.sample) {
    out.set(sampleStack(p, s).join(' < '), {
      values: s.value.map((v) => BigInt(v)),
      labels: sampleLabels(p, s),
    });
  }
  return out;
}

describe('toPprofProfiles', () => {
  it('produces profiles that satisfy the CheckValid rules', () => {
    const { cpu, malloc } = convert();
    assert.deepEqual(pprofProblems(cpu), []);
    assert.deepEqual(pprofProblems(malloc), []);
  });

  it('gives CPU profiles [samples/count, cpu/nanoseconds] with values [n, n·period]', () => {
    const { cpu } = convert();
    assert.deepEqual(
      cpu.sampleType.map((vt) => `${str(cpu, vt.type)}/${str(cpu, vt.unit)}`),
      ['samples/count', 'cpu/nanoseconds'],
    );
    assert.equal(`${str(cpu, cpu.periodType!.type)}/${str(cpu, cpu.periodType!.unit)}`, 'cpu/nanoseconds');
    assert.equal(BigInt(cpu.period), CPU_PERIOD);
    assert.equal(str(cpu, cpu.defaultSampleType), 'cpu');
    assert.equal(columnTotal(cpu, 0), CPU_EXPECTED.total, 'total samples in = total samples out');
    assert.equal(columnTotal(cpu, 1), CPU_EXPECTED.total * CPU_PERIOD);
    for (const s of cpu.sample) assert.equal(BigInt(s.value[1]!), BigInt(s.value[0]!) * CPU_PERIOD);
  });

  it('counts timestamps when a sample has no values, sums values otherwise, and merges equal samples', () => {
    const { cpu } = convert();
    const samples = bySample(cpu);
    assert.equal(cpu.sample.length, 3, 'the two samples of the same identity are merged');
    assert.equal(samples.get('parseJSON < handleRequest < main')?.values[0], CPU_EXPECTED.parseJsonSamples);
    assert.equal(
      samples.get(
        'do_syscall_64 < entry_SYSCALL_64_after_hwframe < __memmove_avx_unaligned_erms < parseJSON < handleRequest < main',
      )?.values[0],
      CPU_EXPECTED.syscallSamples,
    );
    assert.equal(
      samples.get('@0x7f000009abc0 < handleRequest < main')?.values[0],
      CPU_EXPECTED.addressOnlySamples,
    );
  });

  it('keeps non-CPU profiles to their single sample type and period', () => {
    const { malloc } = convert();
    assert.deepEqual(
      malloc.sampleType.map((vt) => `${str(malloc, vt.type)}/${str(malloc, vt.unit)}`),
      ['malloc/bytes'],
    );
    assert.equal(
      `${str(malloc, malloc.periodType!.type)}/${str(malloc, malloc.periodType!.unit)}`,
      'process_cuda/bytes',
    );
    assert.equal(BigInt(malloc.period), 1n);
    assert.equal(columnTotal(malloc, 0), MALLOC_EXPECTED.total);
    const samples = bySample(malloc);
    assert.equal(samples.get('parseJSON < handleRequest < main')?.values[0], MALLOC_EXPECTED.parseJsonBytes);
    assert.equal(
      samples.get('@0x7f000009abc0 < handleRequest < main')?.values[0],
      MALLOC_EXPECTED.addressOnlyBytes,
    );
  });

  it('keeps addresses, mappings and build ids (GNU first, htlhash otherwise)', () => {
    const { cpu } = convert();
    const mappingOf = (name: string) => cpu.mapping.find((m) => str(cpu, m.filename) === name);
    const libc = mappingOf('libc.so.6');
    const exe = mappingOf('/usr/bin/checkout');
    assert.ok(libc && exe);
    assert.equal(str(cpu, libc.buildId), GNU_BUILD_ID);
    assert.equal(str(cpu, exe.buildId), HTL_HASH);
    assert.equal(BigInt(exe.memoryStart), 0x40_0000n);
    assert.equal(BigInt(exe.memoryLimit), 0x80_0000n);
    assert.equal(exe.hasFunctions, true, 'every location of the executable is symbolized');
    assert.equal(libc.hasFunctions, false, 'libc has an address-only location');
    const addressOnly = cpu.location.find((l) => l.line.length === 0);
    assert.ok(addressOnly);
    assert.equal(BigInt(addressOnly.address), 0x7f00_0009_abc0n);
    assert.equal(BigInt(addressOnly.mappingId), BigInt(libc.id));
    const kernel = cpu.location.filter((l) => BigInt(l.mappingId) === 0n);
    assert.equal(kernel.length, 2, 'kernel frames have no mapping');
    const parseJson = cpu.location.find(
      (l) =>
        l.line[0] && str(cpu, cpu.function.find((f) => f.id === l.line[0]!.functionId)!.name) === 'parseJSON',
    );
    assert.equal(BigInt(parseJson!.line[0]!.line), 42n);
    const fn = cpu.function.find((f) => str(cpu, f.name) === 'parseJSON')!;
    assert.equal(str(cpu, fn.filename), 'src/json.c');
  });

  it('turns sample attributes and the workload resource attributes into labels', () => {
    const { cpu, malloc } = convert();
    const samples = bySample(cpu);
    const hot = samples.get('parseJSON < handleRequest < main')!.labels;
    assert.equal(hot['thread.name'], 'worker-1');
    assert.equal(hot['thread.id'], 17n, 'int attributes become numeric labels');
    assert.equal(hot['service.name'], 'checkout');
    assert.equal(hot['process.pid'], 4242n);
    assert.equal(hot['process.executable.name'], 'checkout');
    assert.equal(hot['k8s.namespace.name'], 'shop');
    assert.equal(hot['k8s.pod.name'], 'checkout-7d9f');
    assert.equal(hot['container.id'], '0123456789abcdef0123456789abcdef');
    assert.equal(hot['host.name'], undefined, 'host.name is not a workload label');
    assert.equal(hot['container.image.tags'], undefined, 'arrays have no label form');
    const bare = samples.get('@0x7f000009abc0 < handleRequest < main')!.labels;
    assert.equal(bare['thread.name'], undefined);
    assert.equal(bare['service.name'], 'checkout');
    const linked = bySample(malloc).get('parseJSON < handleRequest < main')!.labels;
    assert.equal(linked.trace_id, TRACE_ID_HEX);
    assert.equal(linked.span_id, SPAN_ID_HEX);
    assert.equal(linked['service.name'], 'trainer/gpu');
  });

  it('copies time and duration and lists the resource attributes in comments', () => {
    const { cpu, malloc } = convert();
    assert.equal(BigInt(cpu.timeNanos), T0);
    assert.equal(BigInt(cpu.durationNanos), 5_000_000_000n);
    assert.equal(BigInt(malloc.timeNanos), T0 + 1_000_000_000n);
    const comments = cpu.comment.map((c) => str(cpu, c));
    assert.ok(comments.includes('service.name=checkout'), comments.join('\n'));
    assert.ok(comments.includes('host.name=node-1'));
    assert.ok(comments.includes('container.image.tags=v1,latest'));
    assert.ok(comments.includes(`profile_id=${'07'.repeat(16)}`));
  });

  it('names files <service>-<pid or container id>-<type>-<UTC time>, file-system safe', () => {
    const { files } = convert();
    assert.equal(files[0]!.name, 'checkout-4242-cpu-20260101T000000Z');
    assert.equal(files[1]!.name, 'trainer_gpu-fedcba987654-malloc-20260101T000001Z');
    for (const f of files) assert.match(f.name, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    assert.equal(files[0]!.resourceAttributes['process.pid'], '4242');
    assert.equal(files[1]!.resourceAttributes['service.name'], 'trainer/gpu');
  });

  it('maps each OTLP dictionary entry to one pprof id', () => {
    const { cpu } = convert();
    // 7 distinct locations are used by the CPU profile's stacks (kernel ×2, memmove, 3 exe, 1 address-only).
    assert.equal(cpu.location.length, 7);
    assert.equal(cpu.function.length, 6);
    assert.equal(cpu.mapping.length, 2);
  });

  it('names the broken reference when the dictionary is inconsistent', () => {
    const request = buildSinkRequest();
    request.dictionary.stackTable.push({ locationIndices: [99] });
    request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples.push({
      stackIndex: request.dictionary.stackTable.length - 1,
      attributeIndices: [],
      linkIndex: 0,
      values: [1n],
      timestampsUnixNano: [],
    });
    assert.throws(() => toPprofProfiles(request), /location_table\[99\], which has 8 entries/);
  });

  it('converts a profile without samples into a valid empty pprof profile', () => {
    const request = buildSinkRequest();
    request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples = [];
    const [cpu] = toPprofProfiles(request);
    const decoded = Profile.decode(cpu!.profile.encode());
    assert.equal(decoded.sample.length, 0);
    assert.equal(decoded.sampleType.length, 2);
    assert.deepEqual(pprofProblems(decoded), []);
  });
});
