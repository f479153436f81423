import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import { createGrpcRowSource } from '../../../src/gadget-bridge/grpc/grpc-row-source.js';
import type { GrpcRowSourceOptions } from '../../../src/gadget-bridge/grpc/grpc-row-source.js';
import type { RowBatch, RowSource } from '../../../src/rows/row-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import { createLogger } from '../../../src/observability/logger.js';
import type { IgDaemonDouble } from '../../support/ig-daemon-double.js';
import { igDaemonDoublesForFile } from '../../support/ig-daemon-doubles.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import { gadgetRow, getField } from '../../../src/rows/gadget-row.js';

const emissions = readIgExampleEmissions();
const SECOND = 1_000_000_000n;
const double = igDaemonDoublesForFile();

/** Example rows with `samples` set to n, so every emission is distinguishable. */
function tagged(n: number, base: readonly GadgetRow[] = emissions[0]!): GadgetRow[] {
  return base.map((r, i) => ({ ...r, samples: n * 100 + i }));
}
const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const tagOf = (b: RowBatch): number =>
  Math.floor(Number((b.rows[0] && getField(b.rows[0], 'samples')) ?? -100) / 100);

function harness(overrides: Partial<GrpcRowSourceOptions> & Pick<GrpcRowSourceOptions, 'address'>) {
  const lines: string[] = [];
  const counters = new Counters();
  let t = 1_000n;
  const source = createGrpcRowSource({
    logger: createLogger({ level: 'debug', write: (l) => void lines.push(l) }),
    counters,
    clock: () => (t += 1n) * SECOND,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
    ...overrides,
  });
  return { source, lines, counters };
}

async function drain(
  source: RowSource,
  onBatch?: (b: RowBatch, all: RowBatch[]) => void | Promise<void>,
): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const b of source.batches()) {
    out.push(b);
    await onBatch?.(b, out);
  }
  return out;
}

describe('gRPC row source: run', () => {
  it('yields one batch per emission with spec, windows and origin; ignores other datasources; logs; counts gaps', async () => {
    const d = await double({
      endAfterScript: true,
      script: () => [
        { rows: emissions[0]! },
        { log: { level: 3, message: 'stack with ID 7 is lost' } },
        { log: { level: 5, message: 'debug detail' } },
        { rows: [gadgetRow({ count: 1, name: 'n' })], datasource: 'stats' },
        { skipSeq: 2 },
        { rows: emissions[1]! },
        { rows: emissions[2]! },
      ],
    });
    const { source, lines, counters } = harness({
      address: d.unixAddress,
      run: { imageName: 'profile_cpu' },
    });
    const batches = await drain(source);
    assert.deepStrictEqual(
      batches.map((b) => b.rows),
      [emissions[0], emissions[1], emissions[2]],
    );
    for (const b of batches) {
      assert.equal(b.spec.profileName, 'process_cpu');
      assert.equal(b.spec.period, 20408163n);
      assert.equal(b.spec.fetchIntervalNano, SECOND);
    }
    // Clock: stream start 1001 s, batches end at 1002, 1003, 1004 s; the first starts at the run start.
    assert.deepEqual(
      batches.map((b) => [b.windowStartUnixNano / SECOND, b.windowEndUnixNano / SECOND]),
      [
        [1001n, 1002n],
        [1002n, 1003n],
        [1003n, 1004n],
      ],
    );
    assert.match(batches[1]!.origin, /ig\.socket samples seq 5$/);
    assert.equal(counters.get('grpc_events'), 3);
    assert.equal(counters.get('rows_read'), emissions[0]!.length + emissions[2]!.length);
    assert.equal(counters.get('grpc_fetches_lost'), 2);
    assert.ok(lines.some((l) => / WARN .*dropped 2 event\(s\) \(seq 3\.\.4\)/.test(l)));
    assert.ok(lines.some((l) => / WARN .*gadget: stack with ID 7 is lost/.test(l)));
    assert.ok(lines.some((l) => / DEBUG .*gadget: debug detail/.test(l)));
    assert.equal(lines.filter((l) => / INFO .*datasource "stats".*ignoring/.test(l)).length, 1);
    assert.ok(lines.some((l) => /ended its stream/.test(l)));
  });

  it('stop() asks for the final flush, which is still yielded; then the iterable ends', async () => {
    const d = await double({ script: () => [{ rows: tagged(1) }], finalFlush: () => tagged(2) });
    const { source } = harness({ address: d.unixAddress, run: { imageName: 'profile_cpu' } });
    const batches = await drain(source, async (b) => {
      if (tagOf(b) === 1) await source.stop();
    });
    assert.deepEqual(batches.map(tagOf), [1, 2]);
    assert.equal(d.runs[0]!.stopRequested, true);
  });

  it('fetch-interval 0: the window starts at the run start', async () => {
    const d = await double({
      layout: { annotations: { 'fetch-interval': '0' } },
      finalFlush: () => tagged(1),
      script: () => [{ waitMs: 1 }],
    });
    const { source } = harness({ address: d.unixAddress, run: { imageName: 'profile_cpu' } });
    const batches: RowBatch[] = [];
    const pending = drain(source, (b) => void batches.push(b));
    await d.waitFor(() => d.runs.length === 1, 5_000, 'the run');
    await source.stop();
    await pending;
    assert.equal(batches.length, 1);
    assert.equal(batches[0]!.spec.fetchIntervalNano, 0n);
    assert.deepEqual(
      [batches[0]!.windowStartUnixNano, batches[0]!.windowEndUnixNano],
      [1001n * SECOND, 1002n * SECOND],
    );
  });

  it('reconnects and re-runs after the daemon is killed mid-stream; nothing yielded twice or lost', async () => {
    const d = await double({
      script: (run) => (run === 0 ? [{ rows: tagged(1) }, { rows: tagged(2) }] : [{ rows: tagged(10) }]),
      finalFlush: (run) => tagged(run === 0 ? 3 : 11),
    });
    const { source, counters, lines } = harness({
      address: d.unixAddress,
      run: { imageName: 'profile_cpu' },
    });
    const batches = await drain(source, async (b) => {
      if (tagOf(b) === 2) {
        await d.kill();
        await d.restart();
      }
      if (tagOf(b) === 10) await source.stop();
    });
    // Run 0's flush never happened (the daemon died): the re-run starts afresh.
    assert.deepEqual(batches.map(tagOf), [1, 2, 10, 11]);
    assert.equal(d.runs.length, 2);
    assert.equal(counters.get('grpc_reconnects'), 1);
    assert.ok(lines.some((l) => / WARN .*lost the stream.*reconnecting until stopped.*run again/.test(l)));
    assert.equal(counters.get('grpc_input_gaps', { reason: 'gadget_rerun' }), 1, 'a re-run is a counted gap');
    assert.ok(
      lines.some((l) =>
        / INFO .*reconnected to Inspektor Gadget .* after \d+\.\d s without a stream/.test(l),
      ),
    );
  });

  it('gives up once the connection has been down for reconnect.maxElapsedMs, naming the address and the limit', async () => {
    const d = await double({ script: () => [{ rows: tagged(1) }] });
    const { source, counters, lines } = harness({
      address: d.unixAddress,
      run: { imageName: 'profile_cpu' },
      reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxElapsedMs: 400 },
    });
    const yielded: number[] = [];
    await assert.rejects(
      drain(source, async (b) => {
        yielded.push(tagOf(b));
        await d.kill(); // and never back
      }),
      (err: Error) => {
        assert.match(err.message, /gave up reconnecting to Inspektor Gadget at unix:\/\/.* after \d+\.\d s/);
        assert.match(err.message, /reconnect time limit is 0\.4 s/);
        return true;
      },
    );
    assert.deepEqual(yielded, [1]);
    assert.ok(lines.some((l) => /lost the stream .*reconnecting for up to 0\.4 s/.test(l)));
    assert.equal(counters.get('grpc_reconnects'), 1);
    assert.ok(counters.get('grpc_disconnected_ms') >= 300, 'the outage is counted until the end');
  });
});

describe('gRPC row source: attach', () => {
  it('survives a dropped connection: the replay is de-duplicated, events emitted meanwhile are kept', async () => {
    const d = await double({});
    const id = d.createInstance('profile-cpu');
    d.instanceEmit(id, tagged(1));
    d.instanceEmit(id, emissions[1]!); // an empty fetch
    d.instanceEmit(id, tagged(2));
    const { source, counters } = harness({ address: d.unixAddress, attach: 'profile-cpu' });
    const batches = await drain(source, async (b, all) => {
      if (tagOf(b) === 2) d.instanceEmit(id, tagged(3));
      if (tagOf(b) === 3) {
        await d.kill();
        d.instanceEmit(id, tagged(4)); // the instance keeps running while we are away
        await d.restart({ keepInstances: true });
      }
      if (tagOf(b) === 4) d.instanceEmit(id, tagged(5));
      if (tagOf(b) === 5) await source.stop();
      assert.ok(all.length < 20);
    });
    assert.deepEqual(batches.map(tagOf), [1, -1, 2, 3, 4, 5]);
    assert.equal(counters.get('grpc_reconnects'), 1);
    assert.equal(counters.total('grpc_input_gaps'), 0, 'the replay covered the gap: nothing lost');
    assert.equal(counters.get('grpc_replayed_events_skipped'), 4);
    assert.deepEqual(d.attaches, [id, id]);
    // The window of the first batch after the reconnect continues from the last one.
    assert.equal(batches[4]!.windowStartUnixNano, batches[3]!.windowEndUnixNano);
  });

  it('attach started before the daemon exists waits for it (not connected meanwhile), then delivers; nothing is a loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'igop-'));
    try {
      const socketPath = join(dir, 'ig.socket');
      const states: string[] = [];
      const { source, counters, lines } = harness({
        address: `unix://${socketPath}`,
        attach: 'profile-cpu',
        status: { setInput: (s) => void states.push(`${s.state}: ${s.detail}`) },
      });
      let d: IgDaemonDouble | undefined;
      const started = (async () => {
        while (!states.some((s) => s.startsWith('connecting: IG daemon unreachable'))) await sleepMs(20);
        await sleepMs(300);
        d = await double({ socketPath });
        d.instanceEmit(d.createInstance('profile-cpu'), tagged(1));
      })();
      const batches = await drain(source, async () => {
        await source.stop();
      });
      await started;
      assert.deepEqual(batches.map(tagOf), [1]);
      assert.match(
        states[0] ?? '',
        /^connecting: IG daemon unreachable: cannot reach Inspektor Gadget's daemon at unix:/,
      );
      assert.match(states.at(-1) ?? '', /^connected: connected to IG daemon at unix:/);
      assert.ok(lines.some((l) => / INFO .*connected to Inspektor Gadget at .* after waiting/.test(l)));
      assert.equal(counters.get('grpc_reconnects'), 0);
      assert.equal(counters.total('grpc_input_gaps'), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stopped while the daemon is out of reach: what the instance emitted since is a counted gap', async () => {
    const d = await double({});
    const id = d.createInstance('out-of-reach');
    d.instanceEmit(id, tagged(1));
    const { source, counters } = harness({ address: d.unixAddress, attach: 'out-of-reach' });
    const batches = await drain(source, async (b) => {
      if (tagOf(b) !== 1) return;
      await d.kill();
      setTimeout(() => void source.stop(), 200);
    });
    assert.deepEqual(batches.map(tagOf), [1]);
    assert.equal(counters.get('grpc_reconnects'), 1);
    assert.equal(counters.get('grpc_input_gaps', { reason: 'ended_disconnected' }), 1);
    assert.ok(counters.get('grpc_disconnected_ms') > 0);
  });

  it('recognises a restarted instance (fresh ring buffer): everything it replays is new', async () => {
    const d = await double({});
    const id = d.createInstance('0123456789abcdef0123456789abcdef');
    d.instanceEmit(id, tagged(1));
    const { source, counters, lines } = harness({ address: d.unixAddress, attach: id });
    const batches = await drain(source, async (b) => {
      if (tagOf(b) === 1) {
        await d.kill();
        await d.restart({ keepInstances: false });
        d.instanceEmit(id, tagged(1)); // same content as before, but a new instance's first emission
        d.instanceEmit(id, tagged(7));
      }
      if (tagOf(b) === 7) await source.stop();
    });
    // tagged(1) again is the longest overlap with what was delivered: dropped rather than duplicated.
    assert.deepEqual(batches.map(tagOf), [1, 7]);
    assert.equal(counters.get('grpc_reconnects'), 1);

    const d2 = await double({});
    const id2 = d2.createInstance('other');
    d2.instanceEmit(id2, tagged(1));
    const h2 = harness({ address: d2.unixAddress, attach: 'other' });
    const batches2 = await drain(h2.source, async (b) => {
      if (tagOf(b) === 1) {
        await d2.kill();
        await d2.restart({ keepInstances: false });
        d2.instanceEmit(id2, tagged(8));
      }
      if (tagOf(b) === 8) await h2.source.stop();
    });
    assert.deepEqual(batches2.map(tagOf), [1, 8]);
    assert.ok(h2.lines.some((l) => / WARN .*replay does not continue/.test(l)));
    assert.equal(h2.counters.get('grpc_input_gaps', { reason: 'replay_not_overlapping' }), 1);
    void lines;
  });
});

describe('gRPC row source: errors', () => {
  it('waits for a daemon unreachable at start like a lost one, then fails with a clear error at the bound', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'igop-'));
    try {
      const address = `unix://${join(dir, 'ig.socket')}`;
      const { source, counters } = harness({
        address,
        run: { imageName: 'profile_cpu' },
        reconnect: { initialDelayMs: 20, maxDelayMs: 50, maxElapsedMs: 300 },
      });
      await assert.rejects(drain(source), (err: Error) => {
        assert.match(err.message, /gave up waiting for Inspektor Gadget at unix:.* after/);
        assert.match(err.message, /cannot reach Inspektor Gadget's daemon at unix:\/\/.*ig\.socket/);
        assert.match(err.message, /is `ig daemon` running.*--remote-address/);
        return true;
      });
      assert.equal(counters.get('grpc_reconnects'), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails on an unknown instance instead of retrying forever', async () => {
    const d = await double({});
    const { source } = harness({ address: d.unixAddress, attach: 'nope' });
    await assert.rejects(drain(source), /NOT_FOUND.*not found/);
  });

  it('rejects options with both or neither of run and attach', () => {
    assert.throws(() => harness({ address: 'unix:///x' }), /exactly one of run .* or attach/);
  });
});
