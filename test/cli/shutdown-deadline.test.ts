import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ShutdownDeadline } from '../../src/cli/shutdown-deadline.js';
import { VirtualClock } from '../support/delivery-fakes.js';
import { forceGc } from '../support/force-gc.js';

/** Yields `first`, then waits for ever (stdin that an upstream keeps open). */
async function* neverEnding(first: readonly number[]): AsyncGenerator<number> {
  yield* first;
  await new Promise<never>(() => undefined);
}

async function collect(items: AsyncIterable<number>): Promise<number[]> {
  const out: number[] = [];
  for await (const item of items) out.push(item);
  return out;
}

describe('ShutdownDeadline', () => {
  it('holds no item it already yielded (a run of hours reads millions of batches through it)', async () => {
    const deadline = new ShutdownDeadline(1_000, new VirtualClock());
    const first: { ref?: WeakRef<object> } = {};
    async function* batches(): AsyncGenerator<object> {
      for (let i = 0; i < 50; i++) {
        await new Promise((resolve) => setImmediate(resolve)); // a source that reads, like stdin
        const batch = { rows: new Array<number>(1_000).fill(i) };
        if (i === 0) first.ref = new WeakRef(batch);
        yield batch;
      }
    }
    let seen = 0;
    for await (const batch of deadline.readUntilExpired(batches())) {
      assert.ok(batch);
      seen++;
      if (seen === 40) {
        await forceGc();
        assert.equal(first.ref?.deref(), undefined, 'the first batch was collected while reading went on');
      }
    }
    assert.equal(seen, 50);
  });

  it('counts from the first start(); later starts keep it', async () => {
    const clock = new VirtualClock();
    const deadline = new ShutdownDeadline(1_000, clock);
    assert.equal(deadline.remainingMs(), 1_000, 'the whole timeout before it starts');
    deadline.start();
    const started = clock.now();
    await new Promise<void>((resolve) => clock.setTimer(resolve, 400));
    deadline.start();
    assert.equal(deadline.remainingMs(), 600);
    await new Promise<void>((resolve) => deadline.signal.addEventListener('abort', () => resolve()));
    assert.equal(clock.now() - started, 1_000);
    assert.equal(deadline.remainingMs(), 0);
    assert.equal(deadline.abandoned, false);
  });

  it('stops reading an input that does not end once the deadline passes', async () => {
    const clock = new VirtualClock();
    const deadline = new ShutdownDeadline(500, clock);
    deadline.start();
    assert.deepEqual(await collect(deadline.readUntilExpired(neverEnding([1, 2]))), [1, 2]);
    assert.equal(deadline.inputCut, true);
  });

  it('abandon() ends it at once, before or after start()', async () => {
    const deadline = new ShutdownDeadline(60_000, new VirtualClock());
    const reading = collect(deadline.readUntilExpired(neverEnding([7])));
    await new Promise((r) => setImmediate(r));
    deadline.abandon();
    assert.deepEqual(await reading, [7]);
    assert.equal(deadline.abandoned, true);
    assert.equal(deadline.signal.aborted, true);
    assert.equal(deadline.remainingMs(), 0);
  });

  it('an input that ends by itself is read to its end and not reported as cut', async () => {
    const deadline = new ShutdownDeadline(0, new VirtualClock());
    async function* finite(): AsyncGenerator<number> {
      yield await Promise.resolve(1);
      yield 2;
    }
    assert.deepEqual(await collect(deadline.readUntilExpired(finite())), [1, 2]);
    assert.equal(deadline.inputCut, false);
    deadline.start();
    assert.equal(deadline.signal.aborted, true, 'a zero timeout expires at start');
  });

  it('a failing input still fails the read', async () => {
    const deadline = new ShutdownDeadline(1_000, new VirtualClock());
    async function* failing(): AsyncGenerator<number> {
      yield await Promise.resolve(1);
      throw new Error('input failed');
    }
    await assert.rejects(collect(deadline.readUntilExpired(failing())), /input failed/);
  });
});
