import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RowBatch } from '../../../src/rows/row-batch.js';
import {
  collect,
  exampleLines,
  harness,
  manualClock,
  tempDir,
  testSpec,
  waitFor,
} from '../../support/json-input-fixtures.js';

const SEC = 1_000_000_000n;
const NOW = 1_760_000_000n * SEC;
const lines = exampleLines();

describe('JSON row source: collection windows', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('replays a capture file back to back, one interval per emission, ending at now()', async () => {
    const path = join(tmp.dir, 'capture.jsonl');
    writeFileSync(path, [...lines, ...lines].join('\n') + '\n'); // 10 emissions, 2 of them empty
    const h = harness({ input: { kind: 'file', path }, now: () => NOW });
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.equal(batches.length, 8);
    // Emission i (0-based line index) occupies [NOW-(10-i)s, NOW-(9-i)s); the empty ones leave their slot.
    const expectedSlots = [0, 2, 3, 4, 5, 7, 8, 9];
    batches.forEach((b, k) => {
      const slot = BigInt(expectedSlots[k]!);
      assert.equal(b.windowEndUnixNano, NOW - (9n - slot) * SEC, `batch ${k}`);
      assert.equal(b.windowStartUnixNano, b.windowEndUnixNano - SEC);
      assert.equal(b.origin, `capture.jsonl:${expectedSlots[k]! + 1}`);
    });
    assert.equal(batches.at(-1)!.windowEndUnixNano, NOW);
    assert.equal(h.counters.get('json_emissions_empty'), 2);
  });

  it("uses the spec's fetch interval for the replay and keeps slots of malformed arrays", async () => {
    const path = join(tmp.dir, 'capture-2s.jsonl');
    writeFileSync(path, [lines[0], '[{"broken":', lines[2]].join('\n') + '\n');
    const h = harness({
      input: { kind: 'file', path },
      now: () => NOW,
      resolveSpec: () => testSpec('samples', 2n * SEC),
    });
    const { batches } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => [b.windowStartUnixNano, b.windowEndUnixNano]),
      [
        [NOW - 6n * SEC, NOW - 4n * SEC],
        [NOW - 2n * SEC, NOW],
      ],
    );
    assert.equal(h.counters.get('json_values_malformed'), 1);
  });

  it('ends live windows at arrival time and tiles them while the gaps are at most two intervals', async () => {
    const clock = manualClock(NOW);
    const h = harness({ now: clock.now });
    const iter = h.source.batches()[Symbol.asyncIterator]();
    let next = iter.next(); // the source starts now, at NOW, and waits for input
    const arrive = async (at: bigint, line: string): Promise<RowBatch> => {
      clock.set(at);
      h.stdin.write(line + '\n');
      const batch = (await next).value as RowBatch;
      next = iter.next();
      return batch;
    };
    const first = await arrive(NOW + 300_000_000n, lines[0]!); // 0.3 s after the start: starts at the source start
    assert.deepEqual([first.windowStartUnixNano, first.windowEndUnixNano], [NOW, NOW + 300_000_000n]);
    const second = await arrive(NOW + 1_400_000_000n, lines[2]!); // gap 1.1 s ≤ 2 s: contiguous
    assert.deepEqual(
      [second.windowStartUnixNano, second.windowEndUnixNano],
      [NOW + 300_000_000n, NOW + 1_400_000_000n],
    );
    const third = await arrive(NOW + 10n * SEC, lines[3]!); // gap 8.6 s > 2 s: one interval
    assert.deepEqual([third.windowStartUnixNano, third.windowEndUnixNano], [NOW + 9n * SEC, NOW + 10n * SEC]);
    // An empty emission advances the timeline: the next window starts at its arrival.
    clock.set(NOW + 11n * SEC);
    h.stdin.write('[]\n');
    await waitFor(() => h.counters.get('json_emissions_empty') === 1, 5000, 'the empty emission');
    const fourth = await arrive(NOW + 12n * SEC, lines[4]!);
    assert.deepEqual(
      [fourth.windowStartUnixNano, fourth.windowEndUnixNano],
      [NOW + 11n * SEC, NOW + 12n * SEC],
    );
    h.stdin.end();
    assert.equal((await next).done, true);
  });

  it('starts the first live window one interval before arrival when the source started earlier', async () => {
    const clock = manualClock(NOW);
    const h = harness({ now: clock.now });
    const iter = h.source.batches()[Symbol.asyncIterator]();
    const next = iter.next();
    clock.set(NOW + 5n * SEC);
    h.stdin.end(lines[0] + '\n');
    const b = (await next).value as RowBatch;
    assert.deepEqual([b.windowStartUnixNano, b.windowEndUnixNano], [NOW + 4n * SEC, NOW + 5n * SEC]);
  });

  it('with fetch interval 0 (one flush at stop) the window starts at the source start', async () => {
    const clock = manualClock(NOW);
    const h = harness({ now: clock.now, defaultFetchIntervalNano: 0n });
    const iter = h.source.batches()[Symbol.asyncIterator]();
    const next = iter.next();
    clock.set(NOW + 42n * SEC);
    h.stdin.end(lines[0] + '\n');
    const b = (await next).value as RowBatch;
    assert.deepEqual([b.windowStartUnixNano, b.windowEndUnixNano], [NOW, NOW + 42n * SEC]);
  });

  it('ends envelope windows at their timestamp, per gadget instance', async () => {
    const env = (id: string, seq: number, ts: string): string =>
      JSON.stringify({
        type: 'gadget-data',
        seq,
        gadget: 'profile_cpu',
        datasource: 'samples',
        instanceID: id,
        timestamp: ts,
        data: [{ samples: seq }],
      });
    const t = (iso: string): bigint => BigInt(Date.parse(iso)) * 1_000_000n;
    const h = harness({ now: () => NOW });
    const input = [
      env('a', 1, '2025-08-21T10:00:01.123456789Z'),
      env('b', 1, '2025-08-21T10:00:01.5Z'),
      env('a', 2, '2025-08-21T10:00:02.123456789Z'),
      env('a', 3, '2025-08-21T12:00:02.000000001+02:00'), // = 10:00:02.000000001Z: not after seq 2
      env('a', 4, '2025-08-21T10:00:09.123456789Z'),
    ];
    h.stdin.end(input.join('\n') + '\n');
    const { batches } = await collect(h.source);
    const w = batches.map((b) => [b.windowStartUnixNano, b.windowEndUnixNano]);
    const a1 = t('2025-08-21T10:00:01.000Z') + 123_456_789n;
    const a2 = a1 + SEC;
    const a3 = t('2025-08-21T10:00:02.000Z') + 1n;
    const a4 = a1 + 8n * SEC;
    assert.deepEqual(w, [
      [a1 - SEC, a1], // first: one interval
      [t('2025-08-21T10:00:00.500Z'), t('2025-08-21T10:00:01.500Z')], // instance b has its own timeline
      [a1, a2], // contiguous
      [a3 - SEC, a3], // out of order: one interval
      [a4 - SEC, a4], // gap > 2 intervals
    ]);
  });
});
