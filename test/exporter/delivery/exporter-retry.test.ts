import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RetryPolicy } from '../../../src/util/backoff.js';
import { createExporter } from '../../../src/exporter/delivery/exporter.js';
import type { Exporter } from '../../../src/exporter/delivery/exporter.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import type { ScriptedAnswer } from '../../support/delivery-fakes.js';
import {
  deliveryConfig,
  fakeBatch,
  gate,
  recordingLogger,
  ScriptedTransport,
  splitInTwo,
  SUCCESS,
  unavailable,
  until,
  VirtualClock,
} from '../../support/delivery-fakes.js';

interface Lane {
  exporter: Exporter;
  transport: ScriptedTransport;
  counters: Counters;
  lines: string[];
  clock: VirtualClock;
}

async function lane(
  script: (batch: ExportBatch, attempt: number) => ScriptedAnswer,
  options: {
    retry?: Partial<RetryPolicy>;
    maxRequests?: number;
    concurrency?: number;
    random?: () => number;
    split?: (batch: ExportBatch) => ExportBatch[];
  } = {},
): Promise<Lane> {
  const clock = new VirtualClock();
  const transport = new ScriptedTransport(script, clock);
  const counters = new Counters();
  const { logger, lines } = recordingLogger();
  const exporter = createExporter({
    name: 'fake',
    config: deliveryConfig({
      ...(options.retry ? { retry: options.retry } : {}),
      queue: { maxRequests: options.maxRequests ?? 1_000, concurrency: options.concurrency ?? 1 },
    }),
    transport,
    split: options.split ?? (() => assert.fail('split not expected')),
    logger,
    counters,
    clock,
    ...(options.random ? { random: options.random } : {}),
  });
  await exporter.start();
  return { exporter, transport, counters, lines, clock };
}

const L = { exporter: 'fake' };
const drop = (reason: string) => ({ exporter: 'fake', reason });

describe('exporter: retry and delivery', () => {
  it('retries a retryable failure with exponential backoff and delivers exactly once', async () => {
    const { exporter, transport, counters, lines } = await lane(
      (_b, attempt) => (attempt < 3 ? unavailable() : SUCCESS),
      {
        retry: { initialIntervalMs: 1_000, multiplier: 2, jitter: 0.2 },
        random: () => 0,
      },
    );
    await exporter.enqueue(fakeBatch('b1', { profiles: 2, samples: 10 }));
    await until(() => transport.delivered.length === 1, 'delivery');
    const times = transport.timesOf('b1');
    // Jitter at random = 0 is -20 %: 800, 1600, 3200 ms.
    assert.deepEqual(
      times.slice(1).map((t, i) => t - times[i]!),
      [800, 1_600, 3_200],
    );
    assert.deepEqual(transport.delivered, ['b1']);
    assert.equal(counters.get('requests_retried', L), 3);
    assert.equal(counters.get('requests_sent', L), 1);
    assert.equal(counters.get('profiles_sent', L), 2);
    assert.equal(counters.get('samples_sent', L), 10);
    assert.equal(exporter.stats().retries, 3);
    // Outage logged once (warn) and its end once (info); each retry only at debug level.
    assert.equal(lines.filter((l) => / WARN .*failed: UNAVAILABLE/.test(l)).length, 1);
    assert.equal(lines.filter((l) => / INFO .*reachable again after 6 s \(3 retries\)/.test(l)).length, 1);
    assert.equal(lines.filter((l) => / DEBUG .*retrying in/.test(l)).length, 3);
    const report = await exporter.shutdown(1_000);
    assert.deepEqual(report.delivered, { requests: 1, profiles: 2, samples: 10 });
    assert.deepEqual(report.dropped, {});
    assert.equal(transport.shutdownCalls, 1);
  });

  it('waits at least the Retry-After delay the server asked for', async () => {
    const { exporter, transport } = await lane((b, attempt) => {
      if (attempt > 0) return SUCCESS;
      return unavailable(b.id === 'long' ? 20_000 : 10);
    });
    await exporter.enqueue(fakeBatch('long'));
    await exporter.enqueue(fakeBatch('short'));
    await until(() => transport.delivered.length === 2, 'delivery');
    const [l0, l1] = transport.timesOf('long');
    const [s0, s1] = transport.timesOf('short');
    assert.equal(l1! - l0!, 20_000);
    // A server delay shorter than the backoff does not shorten it.
    assert.equal(s1! - s0!, 1_000);
    await exporter.shutdown(0);
  });

  it('drops a permanent failure at once, counts it and logs the reason', async () => {
    const { exporter, transport, counters, lines } = await lane((b) =>
      b.id === 'bad' ? { status: 'failure', error: new Error('INVALID_ARGUMENT: bad profile') } : SUCCESS,
    );
    await exporter.enqueue(fakeBatch('bad', { profiles: 3, samples: 7 }));
    await exporter.enqueue(fakeBatch('good'));
    await until(() => transport.delivered.length === 1, 'the next batch');
    assert.equal(transport.timesOf('bad').length, 1);
    assert.equal(counters.get('requests_dropped', drop('permanent_error')), 1);
    assert.equal(counters.get('profiles_dropped', drop('permanent_error')), 3);
    assert.equal(counters.get('samples_dropped', drop('permanent_error')), 7);
    const errors = lines.filter((l) => / ERROR /.test(l));
    assert.equal(errors.length, 1);
    assert.match(
      errors[0]!,
      /INVALID_ARGUMENT: bad profile.*reason=permanent_error requests=1 profiles=3 samples=7 id=bad/,
    );
    assert.ok(!lines.some((l) => l.includes('SECRET-TOKEN-VALUE')), 'a header value leaked into the logs');
    const report = await exporter.shutdown(100);
    assert.deepEqual(report.dropped, { permanent_error: { requests: 1, profiles: 3, samples: 7 } });
  });

  it('gives up after max elapsed time and counts retries_exhausted', async () => {
    const { exporter, transport, counters, lines } = await lane(() => unavailable(), {
      retry: { initialIntervalMs: 1_000, multiplier: 2, maxIntervalMs: 4_000, maxElapsedMs: 10_000 },
    });
    await exporter.enqueue(fakeBatch('doomed', { profiles: 1, samples: 4 }));
    await until(() => counters.total('requests_dropped') === 1, 'the drop');
    const times = transport.timesOf('doomed');
    assert.deepEqual(
      times.map((t) => t - times[0]!),
      [0, 1_000, 3_000, 7_000],
    );
    assert.equal(counters.get('requests_retried', L), 3);
    assert.equal(counters.get('samples_dropped', drop('retries_exhausted')), 4);
    assert.match(
      lines.find((l) => / ERROR /.test(l)) ?? '',
      /still failing after 7 s of retries; the next one would pass retry\.max_elapsed_time \(10000 ms; raise it, or 0 = retry forever\).*reason=retries_exhausted/,
    );
    assert.equal(exporter.stats().backendDown, true);
    const report = await exporter.shutdown(0);
    assert.deepEqual(report.dropped, { retries_exhausted: { requests: 1, profiles: 1, samples: 4 } });
  });

  it('drops a retryable failure when retry is disabled', async () => {
    const { exporter, transport, counters, lines } = await lane(() => unavailable(), {
      retry: { enabled: false },
    });
    await exporter.enqueue(fakeBatch('once'));
    await until(() => counters.total('requests_dropped') === 1, 'the drop');
    assert.equal(transport.calls.length, 1);
    // The message names the key the user sets.
    assert.match(
      lines.find((l) => / ERROR /.test(l)) ?? '',
      /retry\.enabled is false.*reason=retry_disabled/,
    );
    assert.equal(counters.get('requests_dropped', drop('retry_disabled')), 1);
    assert.equal(counters.get('requests_retried', L), 0);
    await exporter.shutdown(0);
  });

  it('counts a partial success as delivered plus rejected, never retries it, and warns with the message', async () => {
    const { exporter, transport, counters, lines } = await lane(() => ({
      status: 'success',
      rejectedProfiles: 2,
      message: 'profile has no samples',
    }));
    await exporter.enqueue(fakeBatch('partial', { profiles: 5, samples: 9 }));
    await until(() => transport.delivered.length === 1, 'delivery');
    assert.equal(transport.calls.length, 1);
    assert.equal(counters.get('profiles_rejected', L), 2);
    assert.equal(counters.get('profiles_sent', L), 5);
    assert.match(
      lines.find((l) => / WARN /.test(l)) ?? '',
      /rejected 2 of 5 profile\(s\) \(not retried\): profile has no samples/,
    );
    const report = await exporter.shutdown(0);
    assert.equal(report.rejectedByBackend, 2);
    assert.deepEqual(report.delivered, { requests: 1, profiles: 5, samples: 9 });
  });

  it('splits a too-large request and resends the pieces; drops what cannot be split', async () => {
    const tooLarge = {
      status: 'failure',
      tooLarge: true,
      error: new Error('RESOURCE_EXHAUSTED: message larger than max'),
    } as const;
    const { exporter, transport, counters } = await lane((b) => (b.bytes.length > 150 ? tooLarge : SUCCESS), {
      split: (b) => (b.id === 'solid' ? [b] : splitInTwo(b)),
    });
    await exporter.enqueue(fakeBatch('big', { size: 400, profiles: 4, samples: 40 }));
    await exporter.enqueue(fakeBatch('solid', { size: 400, profiles: 1, samples: 3 }));
    await exporter.enqueue(fakeBatch('after', { profiles: 1, samples: 1 }));
    await until(() => transport.delivered.includes('after'), 'the last batch');
    // 400 → 200 + 200 (still too large) → 4 × 100. Once 200 bytes were refused, big.b (200) and
    // solid (400) are cut before sending; solid cannot be cut, is sent, refused and dropped.
    assert.deepEqual(transport.delivered, ['big.a.a', 'big.a.b', 'big.b.a', 'big.b.b', 'after']);
    assert.deepEqual(
      transport.calls.map((c) => c.id),
      ['big', 'big.a', 'big.a.a', 'big.a.b', 'big.b.a', 'big.b.b', 'solid', 'after'],
    );
    assert.equal(counters.get('requests_sent', L), 5);
    assert.equal(counters.get('profiles_sent', L), 5);
    assert.equal(counters.get('samples_sent', L), 41);
    assert.equal(counters.get('requests_split', L), 2);
    assert.equal(counters.get('requests_dropped', drop('too_large')), 1);
    assert.equal(counters.get('samples_dropped', drop('too_large')), 3);
    const report = await exporter.shutdown(0);
    assert.deepEqual(report.delivered, { requests: 5, profiles: 5, samples: 41 });
    assert.deepEqual(report.dropped, { too_large: { requests: 1, profiles: 1, samples: 3 } });
  });

  it('keeps arrival order with one worker, even across retries', async () => {
    const { exporter, transport } = await lane((b, attempt) =>
      b.id === 'b1' && attempt < 2 ? unavailable() : SUCCESS,
    );
    for (let i = 0; i < 5; i++) await exporter.enqueue(fakeBatch(`b${i}`));
    await until(() => transport.delivered.length === 5, 'delivery');
    assert.deepEqual(transport.delivered, ['b0', 'b1', 'b2', 'b3', 'b4']);
    await exporter.shutdown(0);
  });

  it('sends concurrently with queue.concurrency workers', async () => {
    const open = gate();
    const { exporter, transport } = await lane(() => open.wait.then(() => SUCCESS), { concurrency: 3 });
    for (let i = 0; i < 5; i++) await exporter.enqueue(fakeBatch(`c${i}`));
    await until(() => transport.calls.length === 3, 'three sends in flight');
    assert.equal(exporter.stats().inFlight, 3);
    assert.equal(exporter.stats().queuedRequests, 2);
    open.open();
    await until(() => transport.delivered.length === 5, 'delivery');
    const report = await exporter.shutdown(0);
    assert.equal(report.delivered.requests, 5);
  });

  it('drops the oldest queued batches when the queue is full and counts them exactly', async () => {
    const open = gate();
    const { exporter, transport, counters, lines } = await lane(() => open.wait.then(() => SUCCESS), {
      maxRequests: 3,
    });
    for (let i = 0; i < 6; i++) await exporter.enqueue(fakeBatch(`q${i}`, { profiles: 1, samples: i + 1 }));
    // q0 is in flight (not evictable); q1..q5 compete for 3 slots: q1 and q2 go.
    await until(() => transport.calls.length === 1, 'the first send');
    assert.equal(counters.get('requests_dropped', drop('queue_full')), 2);
    assert.equal(counters.get('profiles_dropped', drop('queue_full')), 2);
    assert.equal(counters.get('samples_dropped', drop('queue_full')), 2 + 3);
    assert.equal(lines.filter((l) => / WARN .*queue is full.*reason=queue_full/.test(l)).length, 2);
    open.open();
    await until(() => transport.delivered.length === 4, 'delivery');
    assert.deepEqual(transport.delivered, ['q0', 'q3', 'q4', 'q5']);
    const report = await exporter.shutdown(0);
    assert.deepEqual(report.dropped, { queue_full: { requests: 2, profiles: 2, samples: 5 } });
    // The high-water mark: the bound (3 waiting) plus the one in flight, 100 bytes each.
    assert.deepEqual(report.queuePeak, { requests: 4, bytes: 400 });
  });

  it('treats a send that throws as retryable', async () => {
    const { exporter, transport, counters } = await lane((_b, attempt) => {
      if (attempt === 0) return Promise.reject(new Error('socket hang up'));
      return SUCCESS;
    });
    await exporter.enqueue(fakeBatch('t'));
    await until(() => transport.delivered.length === 1, 'delivery');
    assert.equal(counters.get('requests_retried', L), 1);
    await exporter.shutdown(0);
  });
});
