import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/util/clock.js';
import type { TimerApi } from '../../src/util/long-timeout.js';
import { MAX_TIMER_DELAY_MS, setLongTimeout } from '../../src/util/long-timeout.js';

/** Timers that fire only when the test says so; each records its delay and ref state. */
function fakeTimers(): TimerApi & {
  pending: { delayMs: number; referenced: boolean; fire(): void }[];
  cleared: number;
  fireNext(): void;
} {
  const api = {
    pending: [] as { delayMs: number; referenced: boolean; fire(): void }[],
    cleared: 0,
    setTimeout(callback: () => void, delayMs: number) {
      const piece = {
        delayMs,
        referenced: true,
        fire: () => {
          api.pending.splice(api.pending.indexOf(piece), 1);
          callback();
        },
        ref() {
          piece.referenced = true;
        },
        unref() {
          piece.referenced = false;
        },
      };
      api.pending.push(piece);
      return piece;
    },
    clearTimeout(timer: unknown) {
      const i = api.pending.indexOf(timer as (typeof api.pending)[number]);
      if (i >= 0) api.pending.splice(i, 1);
      api.cleared += 1;
    },
    fireNext() {
      const next = api.pending[0];
      assert.ok(next, 'a timer is pending');
      next.fire();
    },
  };
  return api;
}

describe('setLongTimeout', () => {
  it('a wait longer than 2^31−1 ms is chained, never fired early', () => {
    const timers = fakeTimers();
    const delay = 600 * 3_600_000; // --timeout 600h
    let fired = 0;
    setLongTimeout(() => (fired += 1), delay, timers);
    const asked: number[] = [];
    while (timers.pending.length > 0) {
      const piece = timers.pending[0];
      assert.ok(piece);
      assert.ok(piece.delayMs >= 1 && piece.delayMs <= MAX_TIMER_DELAY_MS, `piece of ${piece.delayMs} ms`);
      asked.push(piece.delayMs);
      assert.equal(fired, 0, 'not fired before the whole delay passed');
      timers.fireNext();
    }
    assert.equal(fired, 1);
    assert.equal(
      asked.reduce((a, b) => a + b, 0),
      delay,
    );
    assert.equal(asked.length, 2);
  });

  it('a short wait is one ordinary timer', () => {
    const timers = fakeTimers();
    let fired = false;
    setLongTimeout(() => (fired = true), 250, timers);
    assert.deepEqual(
      timers.pending.map((p) => p.delayMs),
      [250],
    );
    timers.fireNext();
    assert.ok(fired);
  });

  it('unref carries over to every re-armed piece; ref undoes it', () => {
    const timers = fakeTimers();
    const handle = setLongTimeout(() => undefined, 3 * MAX_TIMER_DELAY_MS, timers).unref();
    assert.equal(handle.hasRef(), false);
    assert.equal(timers.pending[0]?.referenced, false);
    timers.fireNext();
    assert.equal(timers.pending[0]?.referenced, false, 're-armed piece is unref’d too');
    handle.ref();
    assert.equal(timers.pending[0]?.referenced, true);
    assert.equal(handle.hasRef(), true);
    timers.fireNext();
    assert.equal(timers.pending[0]?.referenced, true);
  });

  it('clear() stops a chain midway', () => {
    const timers = fakeTimers();
    let fired = false;
    const handle = setLongTimeout(() => (fired = true), 2 * MAX_TIMER_DELAY_MS + 5, timers);
    timers.fireNext();
    handle.clear();
    handle.clear();
    assert.equal(timers.pending.length, 0);
    assert.equal(fired, false);
  });

  it('Infinity never fires; 0 and NaN fire on the next turn', () => {
    const timers = fakeTimers();
    setLongTimeout(() => assert.fail('fired'), Infinity, timers);
    assert.equal(timers.pending.length, 0);
    setLongTimeout(() => undefined, Number.NaN, timers);
    setLongTimeout(() => undefined, 0, timers);
    assert.deepEqual(
      timers.pending.map((p) => p.delayMs),
      [0, 0],
    );
  });

  it('real timers: no TimeoutOverflowWarning, and the system clock keeps a 600h timer pending', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      let fired = false;
      const timer = systemClock.setTimer(() => (fired = true), 600 * 3_600_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      timer.cancel();
      assert.equal(fired, false, 'Node would have clamped the delay to 1 ms');
      assert.ok(!warnings.includes('TimeoutOverflowWarning'), warnings.join(', '));
    } finally {
      process.off('warning', onWarning);
    }
  });
});
