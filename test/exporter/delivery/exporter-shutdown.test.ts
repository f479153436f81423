import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createExporter } from '../../../src/exporter/delivery/exporter.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import type { Clock } from '../../../src/util/clock.js';
import { systemClock } from '../../../src/util/clock.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { ScriptedAnswer } from '../../support/delivery-fakes.js';
import {
  deliveryConfig,
  fakeBatch,
  recordingLogger,
  ScriptedTransport,
  SUCCESS,
  unavailable,
  until,
  VirtualClock,
} from '../../support/delivery-fakes.js';

function setup(
  script: (batch: ExportBatch, attempt: number, clock: Clock) => ScriptedAnswer,
  options: { clock?: Clock; timeoutMs?: number; name?: string } = {},
) {
  const clock = options.clock ?? new VirtualClock();
  const transport = new ScriptedTransport((b, a) => script(b, a, clock), clock);
  const counters = new Counters();
  const { logger, lines } = recordingLogger();
  const name = options.name ?? 'fake';
  const exporter = createExporter({
    name,
    config: deliveryConfig({
      name,
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    }),
    transport,
    split: () => assert.fail('split not expected'),
    logger,
    counters,
    clock,
  });
  return { exporter, transport, counters, lines, clock };
}

/** Answers after `ms` of (virtual) time. */
function after(clock: Clock, ms: number, response = SUCCESS): Promise<typeof SUCCESS> {
  return new Promise((resolve) => clock.setTimer(() => resolve(response), ms));
}

describe('exporter: shutdown', () => {
  it('keeps delivering, retries included, until the queue is empty within the deadline', async () => {
    const { exporter, transport, counters } = setup((b, attempt, clock) =>
      b.id === 's0' && attempt < 2 ? unavailable() : after(clock, 100),
    );
    await exporter.start();
    for (let i = 0; i < 5; i++) await exporter.enqueue(fakeBatch(`s${i}`, { profiles: 1, samples: i }));
    const report = await exporter.shutdown(60_000);
    assert.deepEqual(transport.delivered, ['s0', 's1', 's2', 's3', 's4']);
    assert.deepEqual(report, {
      delivered: { requests: 5, profiles: 5, samples: 0 + 1 + 2 + 3 + 4 },
      rejectedByBackend: 0,
      dropped: {},
      pendingOnDisk: { requests: 0, bytes: 0 },
      pendingInMemoryDropped: 0,
      // s0 in flight (retrying) while s1–s4 were stored: five 100-byte requests at once.
      queuePeak: { requests: 5, bytes: 500 },
    });
    assert.equal(counters.total('requests_dropped'), 0);
  });

  it('drops and counts what a memory queue still holds at the deadline, in flight included', async () => {
    const { exporter, transport, counters } = setup(() => unavailable());
    await exporter.start();
    for (let i = 0; i < 3; i++) await exporter.enqueue(fakeBatch(`d${i}`, { profiles: 1, samples: 2 }));
    // Backoff 1 s then 2 s: attempts at 0 and 1 s; the deadline at 2.5 s ends the second wait.
    const report = await exporter.shutdown(2_500);
    assert.equal(transport.calls.length, 2);
    assert.deepEqual(report.delivered, { requests: 0, profiles: 0, samples: 0 });
    assert.deepEqual(report.dropped, { shutdown_timeout: { requests: 3, profiles: 3, samples: 6 } });
    assert.equal(report.pendingInMemoryDropped, 3);
    assert.deepEqual(report.pendingOnDisk, { requests: 0, bytes: 0 });
    const labels = { exporter: 'fake', reason: 'shutdown_timeout' };
    assert.equal(counters.get('requests_dropped', labels), 3);
    assert.equal(counters.get('samples_dropped', labels), 6);

    // Accepting stops with shutdown; a late batch is counted, not lost silently.
    await exporter.enqueue(fakeBatch('late', { profiles: 1, samples: 1 }));
    assert.equal(counters.get('requests_dropped', { exporter: 'fake', reason: 'exporter_stopped' }), 1);
    assert.equal(transport.shutdownCalls, 1);
  });

  it('returns the same report when called twice and handles an exporter that never started', async () => {
    const { exporter } = setup(() => SUCCESS);
    const first = exporter.shutdown(0);
    assert.equal(exporter.shutdown(10), first);
    const report = await first;
    assert.deepEqual(report.delivered, { requests: 0, profiles: 0, samples: 0 });
    assert.deepEqual(report.dropped, {});
  });

  it('treats a transport that never answers within its timeout as retryable', async () => {
    const { exporter, transport, lines } = setup((_b, attempt) => (attempt === 0 ? 'hang' : SUCCESS), {
      timeoutMs: 10,
    });
    await exporter.start();
    await exporter.enqueue(fakeBatch('slow'));
    await until(() => transport.delivered.length === 1, 'delivery');
    const [t0, t1] = transport.timesOf('slow');
    // Timeout 10 ms + 1 s guard grace, then the first 1 s backoff.
    assert.equal(t1! - t0!, 10 + 1_000 + 1_000);
    assert.ok(lines.some((l) => /did not answer within 1010 ms/.test(l)));
    await exporter.shutdown(0);
  });

  it('a backend that never answers blocks neither enqueue nor another exporter', async () => {
    const stuck = setup(() => 'hang', { clock: systemClock, timeoutMs: 600_000, name: 'stuck' });
    const healthy = setup(() => SUCCESS, { clock: systemClock, name: 'healthy' });
    await stuck.exporter.start();
    await healthy.exporter.start();

    const enqueues: Promise<void>[] = [];
    for (let i = 0; i < 20; i++)
      enqueues.push(stuck.exporter.enqueue(fakeBatch(`x${i}`, { profiles: 1, samples: 3 })));
    let guard: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      Promise.all(enqueues).then(() => 'stored'),
      new Promise((resolve) => (guard = setTimeout(() => resolve('blocked'), 10_000))),
    ]);
    clearTimeout(guard);
    assert.equal(outcome, 'stored');
    await until(() => stuck.transport.calls.length === 1, 'the hanging send');
    assert.equal(stuck.exporter.stats().inFlight, 1);
    assert.equal(stuck.exporter.stats().queuedRequests, 19);

    for (let i = 0; i < 3; i++) await healthy.exporter.enqueue(fakeBatch(`h${i}`));
    await until(() => healthy.transport.delivered.length === 3, 'the healthy exporter');
    assert.equal(stuck.transport.delivered.length, 0);

    const report = await stuck.exporter.shutdown(20);
    assert.deepEqual(report.dropped, { shutdown_timeout: { requests: 20, profiles: 20, samples: 60 } });
    assert.equal(report.pendingInMemoryDropped, 20);
    const healthyReport = await healthy.exporter.shutdown(1_000);
    assert.equal(healthyReport.delivered.requests, 3);
  });

  it('rejects enqueue before start (programming error) with a clear message', async () => {
    const exporter = createExporter({
      name: 'early',
      config: deliveryConfig(),
      transport: new ScriptedTransport(() => SUCCESS),
      split: (b) => [b],
      logger: silentLogger,
      counters: new Counters(),
    });
    await assert.rejects(exporter.enqueue(fakeBatch('e')), /call start\(\) before enqueue\(\)/);
  });
});
