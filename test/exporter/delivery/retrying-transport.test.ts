import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../../../src/util/backoff.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import type { RetryingTransportOptions } from '../../../src/exporter/delivery/retrying-transport.js';
import { RetryingTransport } from '../../../src/exporter/delivery/retrying-transport.js';
import type { ScriptedAnswer } from '../../support/delivery-fakes.js';
import {
  deliveryConfig,
  fakeBatch,
  ScriptedTransport,
  SUCCESS,
  unavailable,
  VirtualClock,
} from '../../support/delivery-fakes.js';

/** 1 s doubling up to 10 s, no jitter, retry forever. */
const POLICY: RetryPolicy = deliveryConfig().retry;

function retrying(
  script: (batch: ExportBatch, attempt: number) => ScriptedAnswer,
  options: Partial<Omit<RetryingTransportOptions, 'policy'>> & { policy?: Partial<RetryPolicy> } = {},
) {
  const clock = new VirtualClock();
  const inner = new ScriptedTransport(script, clock);
  const events: string[] = [];
  const transport = new RetryingTransport(inner, {
    clock,
    onRetryableFailure: (batch, response) => events.push(`failed ${batch.id}: ${response.error.message}`),
    onRetry: (batch, retry) => events.push(`retry ${batch.id} #${retry.attempt} in ${retry.delayMs}`),
    ...options,
    policy: { ...POLICY, ...options.policy },
  });
  return { transport, inner, clock, events };
}

const gaps = (times: number[]): number[] => times.slice(1).map((t, i) => t - times[i]!);

describe('RetryingTransport', () => {
  it('retries retryable answers on the backoff and returns the first other answer as it is', async () => {
    const { transport, inner, events } = retrying((_b, attempt) => (attempt < 3 ? unavailable() : SUCCESS));
    assert.equal(transport.description, inner.description);
    const response = await transport.send(fakeBatch('b'), 5_000);
    assert.deepEqual(response, SUCCESS);
    assert.deepEqual(gaps(inner.timesOf('b')), [1_000, 2_000, 4_000]);
    assert.deepEqual(
      inner.calls.map((c) => c.timeoutMs),
      [5_000, 5_000, 5_000, 5_000],
    );
    assert.deepEqual(events, [
      'failed b: UNAVAILABLE: connection refused',
      'retry b #1 in 1000',
      'failed b: UNAVAILABLE: connection refused',
      'retry b #2 in 2000',
      'failed b: UNAVAILABLE: connection refused',
      'retry b #3 in 4000',
    ]);
  });

  it('returns a permanent failure at once, without retrying', async () => {
    const refused: ExportResponse = {
      status: 'failure',
      error: new Error('400 Bad Request'),
      tooLarge: true,
    };
    const { transport, inner, events } = retrying(() => refused);
    assert.equal(await transport.send(fakeBatch('p'), 1_000), refused);
    assert.equal(inner.calls.length, 1);
    assert.deepEqual(events, []);
  });

  it('waits at least the delay the server asked for, and starts a fresh schedule for every send', async () => {
    const { transport, inner } = retrying((b, attempt) =>
      attempt === 0 ? unavailable(b.id === 'a' ? 7_500 : 1) : SUCCESS,
    );
    await transport.send(fakeBatch('a'), 1_000);
    await transport.send(fakeBatch('b'), 1_000);
    assert.deepEqual(gaps(inner.timesOf('a')), [7_500]);
    assert.deepEqual(
      gaps(inner.timesOf('b')),
      [1_000],
      'a shorter server delay does not shorten the backoff',
    );
  });

  it('gives up when the next delay would pass max elapsed time, with the last answer and the time spent', async () => {
    const { transport, inner } = retrying(() => unavailable(), {
      policy: { maxIntervalMs: 4_000, maxElapsedMs: 10_000 },
    });
    const response = await transport.send(fakeBatch('d'), 1_000);
    assert.equal(response.status, 'retryable');
    assert.ok(response.status === 'retryable');
    assert.equal(response.gaveUp, 'retries_exhausted');
    assert.equal(response.retriedForMs, 7_000);
    assert.match(response.error.message, /UNAVAILABLE/);
    assert.deepEqual(gaps(inner.timesOf('d')), [1_000, 2_000, 4_000]);
  });

  it('with retry disabled, gives a retryable answer up after one attempt and reports no retry', async () => {
    const { transport, inner, events } = retrying(() => unavailable(), { policy: { enabled: false } });
    const response = await transport.send(fakeBatch('once'), 1_000);
    assert.ok(response.status === 'retryable');
    assert.equal(response.gaveUp, 'retry_disabled');
    assert.equal(inner.calls.length, 1);
    assert.deepEqual(events, []);
  });

  it('abandons at once when aborted during a backoff wait or an attempt in flight, or before sending', async () => {
    const waiting = new AbortController();
    const inWait = retrying(() => unavailable(), { abandon: waiting.signal });
    const sent = inWait.transport.send(fakeBatch('w'), 1_000);
    setImmediate(() => waiting.abort());
    const abandoned = await sent;
    assert.ok(abandoned.status === 'retryable');
    assert.equal(abandoned.gaveUp, 'abandoned');
    assert.equal(inWait.inner.calls.length, 1, 'no attempt after the abort');

    const hanging = new AbortController();
    const inFlight = retrying(() => 'hang', { abandon: hanging.signal });
    const hung = inFlight.transport.send(fakeBatch('h'), 1_000);
    setImmediate(() => hanging.abort());
    const left = await hung;
    assert.ok(left.status === 'retryable');
    assert.equal(left.gaveUp, 'abandoned');

    const before = retrying(() => SUCCESS, { abandon: AbortSignal.abort() });
    const never = await before.transport.send(fakeBatch('n'), 1_000);
    assert.ok(never.status === 'retryable' && never.gaveUp === 'abandoned');
    assert.equal(before.inner.calls.length, 0);
  });

  it('treats a send that rejects or throws as retryable', async () => {
    let calls = 0;
    const clock = new VirtualClock();
    const transport = new RetryingTransport(
      {
        description: 'throwing',
        send: () => {
          calls += 1;
          if (calls === 1) throw new Error('boom');
          if (calls === 2) return Promise.reject(new Error('socket hang up'));
          return Promise.resolve(SUCCESS);
        },
        shutdown: () => Promise.resolve(),
      },
      { policy: POLICY, clock },
    );
    assert.deepEqual(await transport.send(fakeBatch('t'), 1_000), SUCCESS);
    assert.equal(calls, 3);
  });

  it('shuts the inner transport down', async () => {
    const { transport, inner } = retrying(() => SUCCESS);
    await transport.shutdown();
    assert.equal(inner.shutdownCalls, 1);
  });
});
