import type { ExporterConfig } from '../../config/exporter-config.js';
import type { LatencyHistogram } from '../../observability/latency-histogram.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import { asError } from '../../util/error-text.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { ExporterTransport } from '../exporter-transport.js';
import { createExportQueue } from '../queue/create-export-queue.js';
import type { ExportQueue } from '../queue/export-queue.js';
import { BatchDelivery } from './batch-delivery.js';
import type { DeliveryCounts } from './delivery-counts.js';
import { countsOf, NO_DELIVERIES, plus } from './delivery-counts.js';
import type { DropReason } from './drop-ledger.js';
import { DropLedger } from './drop-ledger.js';
import { measureAttempts } from './measured-transport.js';
import { OutageLog } from './outage-log.js';
import { RetryingTransport } from './retrying-transport.js';
import type { BatchSplitter } from './split-on-too-large.js';
import { requestSplitter, SplitOnTooLarge } from './split-on-too-large.js';
import { guardTimeouts } from './timeout-guard.js';

/**
 * One exporter's delivery lane: a bounded queue (memory or persistent, create-export-queue.ts)
 * drained by `queue.concurrency` workers. Each batch goes through the transport wrapped in small
 * decorators (timeout-guard.ts, measured-transport.ts, retrying-transport.ts: exponential backoff
 * honouring Retry-After / RetryInfo), is cut when the backend finds it too large
 * (split-on-too-large.ts, batch-delivery.ts), and every request, profile and sample delivered or
 * dropped is counted (drop-ledger.ts); outages are logged once and their end too (outage-log.ts).
 * `enqueue()` never waits for the network, so a slow or dead backend never blocks ingestion, and
 * exporters share nothing, so one cannot slow down another.
 *
 * Counters (all labelled `exporter`; drops also `reason`):
 * `requests_sent`, `profiles_sent`, `samples_sent`, `profiles_rejected`, `requests_retried`,
 * `requests_split`, `requests_replayed`, `requests_dropped`, `profiles_dropped`, `samples_dropped`.
 */

export type { DeliveryCounts } from './delivery-counts.js';
export type { DropReason } from './drop-ledger.js';

/** What one exporter did over its lifetime, returned by `shutdown()`. */
export interface DeliveryReport {
  /** Requests the backend accepted (profiles include any it rejected by partial success). */
  readonly delivered: DeliveryCounts;
  /** Profiles the backend rejected in partial-success answers (never retried). */
  readonly rejectedByBackend: number;
  /**
   * Drops by reason, read from the loss ledger (so it includes what the pipeline cut out at request
   * build time, with a request count of 0); reasons that never happened are absent.
   */
  readonly dropped: Readonly<Partial<Record<DropReason, DeliveryCounts>>>;
  /** Persistent queue: requests left in the directory (bytes = encoded requests, without file headers), sent on the next start. */
  readonly pendingOnDisk: { readonly requests: number; readonly bytes: number };
  /** Memory queue: requests still queued or in flight at the deadline (also in dropped.shutdown_timeout). */
  readonly pendingInMemoryDropped: number;
  /**
   * The most the queue held at once, waiting and in flight (bytes = encoded requests), measured
   * each time a batch was stored; requests and bytes are each the highest seen, not necessarily at
   * the same moment. A memory queue's share of the process's memory, and what to size
   * `queue.max_size` by.
   */
  readonly queuePeak: { readonly requests: number; readonly bytes: number };
}

export interface ExporterStats {
  /** Waiting in the queue. */
  readonly queuedRequests: number;
  readonly queuedBytes: number;
  /** Batches taken by a worker and not finished (sending or waiting to retry). */
  readonly inFlight: number;
  /** Retries so far. */
  readonly retries: number;
  /** The last attempt failed retryably and no success followed yet. */
  readonly backendDown: boolean;
  /** Why the last finished request failed for good (refused, retries given up), if no success followed. */
  readonly failing?: string;
}

export interface Exporter {
  readonly name: string;
  /** Opens the queue (replaying a persistent one) and starts the workers. */
  start(): Promise<void>;
  /**
   * Hands a batch over; resolves once it is in the queue (durable, for a persistent queue).
   * Never waits for the network and, once `start()` was called, never rejects: a batch that
   * cannot be stored is dropped and counted.
   */
  enqueue(batch: ExportBatch): Promise<void>;
  /**
   * Stops accepting, keeps delivering until the queue is empty or `deadlineMs` passed, then
   * abandons waits and in-flight sends, shuts the transport down and reports. `abandon` aborting
   * ends the drain at once, like the deadline passing (a second signal).
   */
  shutdown(deadlineMs: number, abandon?: AbortSignal): Promise<DeliveryReport>;
  stats(): ExporterStats;
}

export interface ExporterOptions extends ExporterDeps {
  readonly name: string;
  readonly config: ExporterConfig;
  readonly transport: ExporterTransport;
  /**
   * Cuts a batch the backend found too large into pieces under a size (one piece = cannot cut);
   * default: the request splitter (split-on-too-large.ts).
   */
  readonly split?: BatchSplitter;
  /** For tests: virtual time. */
  readonly clock?: Clock;
  /** For tests: deterministic jitter. */
  readonly random?: () => number;
  /** Where each attempt's duration is recorded (labels exporter, outcome), for /metrics. */
  readonly latency?: LatencyHistogram;
}

class QueuedExporter implements Exporter {
  readonly name: string;
  private readonly _concurrency: number;
  private readonly _deps: ExporterDeps;
  private readonly _clock: Clock;
  private readonly _queue: ExportQueue;
  private readonly _drops: DropLedger;
  private readonly _outage: OutageLog;
  /** Delivers one batch through the retrying transport and the split policy. */
  private readonly _delivery: BatchDelivery;
  /** The transport with its guards and retry: what the workers send through and shutdown() stops. */
  private readonly _transport: ExporterTransport;
  /** Aborted at the shutdown deadline: ends backoff waits and in-flight sends. */
  private readonly _abort = new AbortController();
  private _starting: Promise<void> | undefined;
  private _shutdown: Promise<DeliveryReport> | undefined;
  private _accepting = true;
  private _draining = false;
  private _workers: Promise<void>[] = [];
  /** Workers idle on an empty queue. */
  private _idle: (() => void)[] = [];
  /** enqueue() calls still storing. */
  private readonly _storing = new Set<Promise<void>>();
  private _inFlight = 0;
  /** The queue's high-water marks (DeliveryReport.queuePeak). */
  private _queuePeakRequests = 0;
  private _queuePeakBytes = 0;

  constructor(options: ExporterOptions) {
    const { config, logger, counters } = options;
    this.name = options.name;
    this._concurrency = Math.max(1, Math.floor(config.queue.concurrency));
    this._deps = { logger, counters };
    this._clock = options.clock ?? systemClock;
    this._drops = new DropLedger(options.name, this._deps);
    const limits = { maxBytes: config.queue.maxBytes, maxRequests: config.queue.maxRequests };
    this._queue = createExportQueue(config.queue, {
      onDrop: (drop) => this._drops.dropFromQueue(drop, limits),
      logger,
      clock: this._clock,
    });
    const abandon = this._abort.signal;
    let transport = guardTimeouts(options.transport, { clock: this._clock, logger });
    if (options.latency) {
      transport = measureAttempts(transport, {
        histogram: options.latency,
        exporter: options.name,
        clock: this._clock,
        abandon,
      });
    }
    const outage = new OutageLog({
      ...this._deps,
      exporter: options.name,
      clock: this._clock,
      backend: options.transport.description,
      queued: () => this._queue.pending().requests,
    });
    this._outage = outage;
    const retrying = new RetryingTransport(transport, {
      policy: config.retry,
      clock: this._clock,
      ...(options.random ? { random: options.random } : {}),
      abandon,
      onRetryableFailure: (_batch, response) => outage.failed(response.error),
      onRetry: (batch, retry) => outage.retrying(batch, retry),
    });
    this._transport = retrying;
    this._delivery = new BatchDelivery({
      ...this._deps,
      exporter: options.name,
      transport: retrying,
      timeoutMs: config.timeoutMs,
      policy: config.retry,
      tooLarge: new SplitOnTooLarge(options.split ?? requestSplitter(config.batch.maxSamplesPerProfile)),
      drops: this._drops,
      outage: this._outage,
    });
  }

  start(): Promise<void> {
    this._starting ??= this._start();
    return this._starting;
  }

  async enqueue(batch: ExportBatch): Promise<void> {
    if (!this._accepting) {
      this._drops.drop('exporter_stopped', countsOf(batch), 'the exporter is shutting down', {
        id: batch.id,
      });
      return;
    }
    if (!this._starting) throw new Error(`exporter ${this.name}: call start() before enqueue()`);
    const storing = this._store(batch);
    this._storing.add(storing);
    try {
      await storing;
    } finally {
      this._storing.delete(storing);
    }
  }

  shutdown(deadlineMs: number, abandon?: AbortSignal): Promise<DeliveryReport> {
    if (abandon?.aborted) this._abort.abort();
    else abandon?.addEventListener('abort', () => this._abort.abort(), { once: true });
    this._shutdown ??= this._shutdownNow(deadlineMs);
    return this._shutdown;
  }

  stats(): ExporterStats {
    const pending = this._queue.pending();
    const failing = this._drops.failing;
    return {
      queuedRequests: pending.requests,
      queuedBytes: pending.bytes,
      inFlight: this._inFlight,
      retries: this._outage.retries,
      backendDown: this._outage.down,
      ...(failing !== undefined ? { failing } : {}),
    };
  }

  private async _start(): Promise<void> {
    const replayed = await this._queue.open();
    this._noteQueuePeak();
    if (replayed.requests > 0) {
      this._deps.counters.add('requests_replayed', replayed.requests, { exporter: this.name });
      this._deps.logger.info(
        `replaying ${replayed.requests} request(s) (${replayed.bytes} bytes) from the persistent queue ${this._queue.description}`,
      );
    }
    for (let i = 0; i < this._concurrency; i++) this._workers.push(this._work());
  }

  private async _store(batch: ExportBatch): Promise<void> {
    try {
      await this._starting;
      await this._queue.enqueue(batch);
    } catch (err) {
      this._drops.drop('queue_write_failed', countsOf(batch), asError(err).message, { id: batch.id });
      return;
    }
    this._noteQueuePeak();
    this._wake();
  }

  /** Keeps the queue's high-water marks (waiting and in flight) up to date. */
  private _noteQueuePeak(): void {
    const waiting = this._queue.pending();
    const inFlight = this._queue.inFlight();
    this._queuePeakRequests = Math.max(this._queuePeakRequests, waiting.requests + inFlight.requests);
    this._queuePeakBytes = Math.max(this._queuePeakBytes, waiting.bytes + inFlight.bytes);
  }

  private _wake(): void {
    const idle = this._idle;
    this._idle = [];
    for (const resume of idle) resume();
  }

  private _waitForWork(): Promise<void> {
    return new Promise<void>((resolve) => this._idle.push(resolve));
  }

  private async _work(): Promise<void> {
    const signal = this._abort.signal;
    while (!signal.aborted) {
      const taken = await this._queue.take();
      if (!taken) {
        if (this._draining) return;
        // Checked synchronously right before sleeping, so a batch stored meanwhile is not missed.
        if (this._queue.pending().requests > 0) continue;
        await this._waitForWork();
        continue;
      }
      this._inFlight += 1;
      let outcome;
      try {
        outcome = await this._delivery.deliver(taken.batch);
      } finally {
        this._inFlight -= 1;
      }
      if (outcome.kind === 'abandoned') {
        // A persistent batch stays on disk for the next start (close() reports it); a memory
        // batch is lost here, so count what of it was not delivered.
        if (this._queue.kind === 'memory') {
          this._drops.drop(
            'shutdown_timeout',
            outcome.remaining,
            'the shutdown deadline passed while it was in flight',
            { id: taken.entry.id },
          );
          await this._queue.complete(taken.entry);
        }
        return;
      }
      await this._queue.complete(taken.entry);
    }
  }

  private async _shutdownNow(deadlineMs: number): Promise<DeliveryReport> {
    this._accepting = false;
    await this._starting?.catch(() => undefined);
    // Batches being stored were accepted: let them land in the queue before draining.
    await Promise.allSettled([...this._storing]);
    this._draining = true;
    this._wake();
    const deadline = this._clock.setTimer(
      () => this._abort.abort(),
      Math.max(0, deadlineMs),
      // While draining, this exporter is what keeps the process alive.
      { keepAlive: true },
    );
    if (deadlineMs <= 0) this._abort.abort();
    await Promise.allSettled(this._workers);
    deadline.cancel();
    this._abort.abort();

    const left = await this._queue.close();
    let pendingOnDisk = { requests: 0, bytes: 0 };
    let pendingInMemoryDropped = 0;
    if (this._queue.kind === 'persistent') {
      for (const entry of left)
        pendingOnDisk = { requests: pendingOnDisk.requests + 1, bytes: pendingOnDisk.bytes + entry.bytes };
      if (pendingOnDisk.requests > 0) {
        this._deps.logger.warn(
          `${pendingOnDisk.requests} request(s) (${pendingOnDisk.bytes} bytes) were not delivered before the deadline; ` +
            `they stay in ${this._queue.description} and are sent on the next start`,
        );
      }
    } else {
      let lost = NO_DELIVERIES;
      for (const entry of left) lost = plus(lost, countsOf(entry));
      pendingInMemoryDropped =
        lost.requests + (this._drops.droppedByReason().shutdown_timeout?.requests ?? 0);
      this._drops.drop(
        'shutdown_timeout',
        lost,
        `the shutdown deadline (${deadlineMs} ms) passed with requests still queued`,
      );
    }

    await this._transport.shutdown();
    return {
      delivered: this._delivery.delivered,
      rejectedByBackend: this._delivery.rejectedByBackend,
      dropped: this._drops.droppedByReason(),
      pendingOnDisk,
      pendingInMemoryDropped,
      queuePeak: { requests: this._queuePeakRequests, bytes: this._queuePeakBytes },
    };
  }
}

/** The delivery lane of one exporter; call `start()` before `enqueue()`. */
export function createExporter(options: ExporterOptions): Exporter {
  return new QueuedExporter(options);
}
