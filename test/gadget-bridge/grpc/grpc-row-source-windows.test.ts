import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import { getField } from '../../../src/rows/gadget-row.js';
import { createGrpcRowSource } from '../../../src/gadget-bridge/grpc/grpc-row-source.js';
import type { GrpcRowSourceOptions } from '../../../src/gadget-bridge/grpc/grpc-row-source.js';
import type { RowBatch, RowSource } from '../../../src/rows/row-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { igDaemonDoublesForFile } from '../../support/ig-daemon-doubles.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import { rowWith } from '../../support/profiles-fixtures.js';

// The gRPC path's collection windows follow the shared timeline (src/gadget-bridge/collection-timeline.ts):
// the double's profile_cpu fetches every 1 s, the clock is the test's.

const SECOND = 1_000_000_000n;
const MS = 1_000_000n;
const T0 = 1_760_000_000n * SECOND;
const emissions = readIgExampleEmissions();
const double = igDaemonDoublesForFile();

function tagged(n: number): GadgetRow[] {
  return emissions[0]!.map((r, i) => rowWith(r, { samples: n * 100 + i }));
}
const tagOf = (b: RowBatch): number =>
  Math.floor(Number((b.rows[0] && getField(b.rows[0], 'samples')) ?? -100) / 100);
const windowOf = (b: RowBatch): [bigint, bigint] => [b.windowStartUnixNano, b.windowEndUnixNano];

/** A clock that moves `step` per reading (the source reads it once per stream and once per batch) and jumps on demand. */
function steppingClock(start: bigint, step: bigint) {
  let t = start;
  return {
    now: (): bigint => (t += step),
    jump: (by: bigint): bigint => (t += by),
    get current(): bigint {
      return t;
    },
  };
}

function source(overrides: Partial<GrpcRowSourceOptions> & Pick<GrpcRowSourceOptions, 'address'>): RowSource {
  return createGrpcRowSource({
    logger: silentLogger,
    counters: new Counters(),
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  });
}

async function drain(src: RowSource, onBatch?: (b: RowBatch) => void | Promise<void>): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of src.batches()) {
    out.push(b);
    await onBatch?.(b);
  }
  return out;
}

describe('gRPC row source: collection windows', () => {
  it('tiles windows while the gap is at most two fetch intervals; after a longer gap a window is one interval', async () => {
    const d = await double({
      endAfterScript: true,
      script: () => [{ rows: tagged(1) }, { rows: tagged(2) }, { rows: tagged(3) }, { rows: tagged(4) }],
    });
    // Readings: the stream start, then one per batch.
    const readings = [T0, T0 + SECOND, T0 + 2800n * MS, T0 + 10n * SECOND, T0 + 11n * SECOND];
    const batches = await drain(
      source({ address: d.unixAddress, run: { imageName: 'profile_cpu' }, clock: () => readings.shift()! }),
    );
    assert.deepEqual(batches.map(tagOf), [1, 2, 3, 4]);
    assert.deepEqual(batches.map(windowOf), [
      [T0, T0 + SECOND], // first of a run: from the run start
      [T0 + SECOND, T0 + 2800n * MS], // 1.8 s late, within two intervals: contiguous
      [T0 + 9n * SECOND, T0 + 10n * SECOND], // 7.2 s gap: one interval, not the gap
      [T0 + 10n * SECOND, T0 + 11n * SECOND],
    ]);
  });

  it('never yields an empty window: arrivals on one clock reading are 1 ns apart', async () => {
    const d = await double({
      endAfterScript: true,
      script: () => [{ rows: tagged(1) }, { rows: tagged(2) }],
    });
    const readings = [T0, T0 + 500n * MS];
    const batches = await drain(
      source({
        address: d.unixAddress,
        run: { imageName: 'profile_cpu' },
        clock: () => (readings.length > 1 ? readings.shift()! : readings[0]!),
      }),
    );
    assert.deepEqual(batches.map(windowOf), [
      [T0, T0 + 500n * MS],
      [T0 + 500n * MS, T0 + 500n * MS + 1n],
    ]);
  });

  it('attach: the first window is a whole interval; after an outage longer than two intervals the window does not span it', async () => {
    const d = await double({});
    const id = d.createInstance('profile-cpu');
    d.instanceEmit(id, tagged(1));
    const clock = steppingClock(T0, 100n * MS);
    let outageEnd = 0n;
    const src = source({ address: d.unixAddress, attach: 'profile-cpu', clock: clock.now });
    const batches = await drain(src, async (b) => {
      if (tagOf(b) === 1) {
        await d.kill();
        d.instanceEmit(id, tagged(2)); // emitted while we are away
        outageEnd = clock.jump(30n * SECOND);
        await d.restart({ keepInstances: true });
      }
      if (tagOf(b) === 2) d.instanceEmit(id, tagged(3));
      if (tagOf(b) === 3) await src.stop();
    });
    assert.deepEqual(batches.map(tagOf), [1, 2, 3]);
    const windows = batches.map(windowOf);
    const [first, afterOutage, next] = [windows[0]!, windows[1]!, windows[2]!];
    // The instance ran before the attach: its first fetch is not cut at the attach time.
    assert.equal(first[1] - first[0], SECOND);
    assert.ok(afterOutage[1] > outageEnd);
    assert.deepEqual(afterOutage, [afterOutage[1] - SECOND, afterOutage[1]], 'one interval, not the outage');
    assert.equal(next[0], afterOutage[1], 'tiled again once events flow');
  });

  it('run: a re-run after a lost stream starts a new timeline at the new run', async () => {
    const d = await double({
      script: (run) => (run === 0 ? [{ rows: tagged(1) }] : [{ rows: tagged(10) }]),
    });
    const clock = steppingClock(T0, 250n * MS);
    let rerunAfter = 0n;
    const src = source({ address: d.unixAddress, run: { imageName: 'profile_cpu' }, clock: clock.now });
    const batches = await drain(src, async (b) => {
      if (tagOf(b) === 1) {
        await d.kill();
        rerunAfter = clock.jump(100n * SECOND);
        await d.restart();
      }
      if (tagOf(b) === 10) await src.stop();
    });
    assert.deepEqual(batches.map(tagOf), [1, 10]);
    const [start, end] = windowOf(batches[1]!);
    // From the re-run's stream start (a clock reading after the jump), less than one interval.
    assert.ok(start > rerunAfter && start < end, `${start} > ${rerunAfter}`);
    assert.ok(end - start < SECOND, `window of ${end - start} ns`);
  });
});
