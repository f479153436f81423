import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../../src/util/backoff.js';
import { createBackoff, DEFAULT_RETRY_POLICY } from '../../src/util/backoff.js';
import type { Clock } from '../../src/util/clock.js';
import { sleep, systemClock } from '../../src/util/clock.js';

/** A clock the test moves by hand. */
function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    now: () => now,
    setTimer: () => ({ cancel: () => undefined }),
    advance(ms: number) {
      now += ms;
    },
  };
}

const SMALL: RetryPolicy = {
  enabled: true,
  initialIntervalMs: 1_000,
  multiplier: 2,
  maxIntervalMs: 4_000,
  maxElapsedMs: 10_000,
  jitter: 0,
};

describe('exponential backoff', () => {
  it('defaults to the OpenTelemetry Collector retry settings', () => {
    assert.equal(DEFAULT_RETRY_POLICY.initialIntervalMs, 5_000);
    assert.equal(DEFAULT_RETRY_POLICY.multiplier, 1.5);
    assert.equal(DEFAULT_RETRY_POLICY.maxIntervalMs, 30_000);
    assert.equal(DEFAULT_RETRY_POLICY.maxElapsedMs, 300_000);
    assert.equal(DEFAULT_RETRY_POLICY.enabled, true);
  });

  it('grows by the multiplier up to the cap (no jitter at random = 0.5)', () => {
    const backoff = createBackoff(DEFAULT_RETRY_POLICY, { random: () => 0.5, clock: manualClock() });
    const delays = Array.from({ length: 8 }, () => backoff.nextDelayMs());
    // 5000 × 1.5^n: 5000, 7500, 11250, 16875, 25312.5 (rounded), then capped at 30 s.
    assert.deepEqual(delays, [5_000, 7_500, 11_250, 16_875, 25_313, 30_000, 30_000, 30_000]);
    assert.equal(backoff.attempts, 8);
  });

  it('applies ± jitter around the current interval', () => {
    const config = { ...SMALL, jitter: 0.2, maxElapsedMs: 0 };
    const low = createBackoff(config, { random: () => 0, clock: manualClock() });
    const high = createBackoff(config, { random: () => 0.999_999_9, clock: manualClock() });
    assert.deepEqual([low.nextDelayMs(), low.nextDelayMs(), low.nextDelayMs()], [800, 1_600, 3_200]);
    assert.deepEqual([high.nextDelayMs(), high.nextDelayMs(), high.nextDelayMs()], [1_200, 2_400, 4_800]);
  });

  it('waits at least the server-requested delay and keeps advancing its own schedule', () => {
    const backoff = createBackoff({ ...SMALL, maxElapsedMs: 0 }, { clock: manualClock() });
    assert.equal(backoff.nextDelayMs(20_000), 20_000);
    // The server asks for less than the backoff: the backoff (now 2 s) wins.
    assert.equal(backoff.nextDelayMs(10), 2_000);
    assert.equal(backoff.nextDelayMs(4_000.2), 4_001);
    assert.equal(backoff.nextDelayMs(), 4_000);
  });

  it('stops once the elapsed time plus the next delay would pass max elapsed, and reset() restarts', () => {
    const clock = manualClock();
    const backoff = createBackoff(SMALL, { clock });
    const schedule: (number | undefined)[] = [];
    for (let i = 0; i < 4; i++) {
      const delay = backoff.nextDelayMs();
      schedule.push(delay);
      if (delay !== undefined) clock.advance(delay);
    }
    // 1 s + 2 s + 4 s = 7 s elapsed; another 4 s would end at 11 s > 10 s.
    assert.deepEqual(schedule, [1_000, 2_000, 4_000, undefined]);
    assert.equal(backoff.elapsedMs(), 7_000);
    backoff.reset();
    assert.equal(backoff.elapsedMs(), 0);
    assert.equal(backoff.attempts, 0);
    assert.equal(backoff.nextDelayMs(), 1_000);
  });

  it('counts a server delay against max elapsed', () => {
    const backoff = createBackoff(SMALL, { clock: manualClock() });
    assert.equal(backoff.nextDelayMs(60_000), undefined);
  });

  it('never stops when max elapsed is 0', () => {
    const clock = manualClock();
    const backoff = createBackoff({ ...SMALL, maxElapsedMs: 0 }, { clock });
    for (let i = 0; i < 1_000; i++) {
      const delay = backoff.nextDelayMs();
      assert.equal(delay, i < 2 ? [1_000, 2_000][i] : 4_000);
      clock.advance(86_400_000);
    }
  });

  it('wait() resolves false as soon as the signal aborts', async () => {
    const backoff = createBackoff(SMALL);
    const controller = new AbortController();
    const waiting = backoff.wait(3_600_000, controller.signal);
    controller.abort();
    assert.equal(await waiting, false);
    assert.equal(await sleep(systemClock, 1), true);
    assert.equal(await sleep(systemClock, 1, controller.signal), false);
  });

  it('its timers do not keep the process alive', () => {
    // A child that only waits an hour on a backoff must exit by itself right away.
    const script =
      "import { createBackoff } from './src/util/backoff.ts';" +
      "void createBackoff().wait(3_600_000).then(() => process.exit(7)); process.on('exit', (c) => { if (c === 0) console.log('exited'); });";
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url).pathname,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.signal, null, `child was killed (${result.signal}): the timer kept it alive`);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /exited/);
  });
});
