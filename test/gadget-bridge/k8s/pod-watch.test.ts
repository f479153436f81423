import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createBackoff } from '../../../src/util/backoff.js';
import {
  POD_WATCH_RETRY,
  WATCH_HEALTHY_MS,
  watchWasHealthy,
} from '../../../src/gadget-bridge/k8s/pod-watch.js';

// The rules both list + watch loops (gadget pod discovery, pod metadata) share.

describe('pod watch rules', () => {
  it('a watch was healthy when it lasted WATCH_HEALTHY_MS, or the server ended it after events', () => {
    assert.equal(watchWasHealthy({ kind: 'ended', events: 0 }, WATCH_HEALTHY_MS - 1), false);
    assert.equal(watchWasHealthy({ kind: 'ended', events: 3 }, 10), true);
    assert.equal(watchWasHealthy({ kind: 'ended', events: 0 }, WATCH_HEALTHY_MS), true);
    assert.equal(watchWasHealthy({ kind: 'failed', error: new Error('x') }, 10), false);
    assert.equal(watchWasHealthy({ kind: 'failed', error: new Error('x') }, WATCH_HEALTHY_MS), true);
    assert.equal(watchWasHealthy({ kind: 'gone' }, 10), false);
  });

  it('retries quickly at first, then at most once a minute, forever', () => {
    const backoff = createBackoff(POD_WATCH_RETRY, { random: () => 0.5 }); // no jitter at 0.5
    const delays = Array.from({ length: 10 }, () => backoff.nextDelayMs());
    assert.deepEqual(delays, [500, 1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    assert.equal(POD_WATCH_RETRY.maxElapsedMs, 0);
    const low = createBackoff(POD_WATCH_RETRY, { random: () => 0 }).nextDelayMs();
    assert.equal(low, 400, '±20% jitter keeps a fleet of exporters out of lockstep');
  });
});
