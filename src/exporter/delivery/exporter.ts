import type { ExporterConfig } from '../../config/exporter-config.js';
import type { Counters } from '../../observability/counters.js';
import type { LatencyHistogram } from '../../observability/latency-histogram.js';
import type { Logger } from '../../observability/logger.js';
import type { DropCounts } from '../../observability/loss-ledger.js';
import { EXPORT_FAILURE_REASONS, LossLedger } from '../../observability/loss-ledger.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';
import type { ExportQueue, QueueDrop } from '../queue/export-queue.js';
import { createMemoryQueue } from '../queue/memory-queue.js';
import { createPersistentQueue } from '../queue/persistent-queue.js';
import { createBackoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { BatchSplitter } from './split-on-too-large.js';
import { requestSplitter, SplitOnTooLarge } from './split-on-too-large.js';
import { asError } from '../../util/error-text.js';

/**
 * One exporter's delivery lane: a bounded queue (memory or persistent) drained by
 * `queue.concurrency` workers that send each batch through the transport, retry what the transport
 * calls retryable with exponential backoff (honouring Retry-After / RetryInfo), split what the
 * backend finds too large, and count every request, profile and sample that is delivered or
 * dropped. `enqueue()` never waits for the network, so a slow or dead backend never blocks
 * ingestion, and exporters share nothing, so one cannot slow down another.
 *
 * Counters (all labelled `exporter`; drops also `reason`):
 * `requests_sent`, `profiles_sent`, `samples_sent`, `profiles_rejected`, `requests_retried`,
 * `requests_split`, `requests_replayed`, `requests_dropped`, `profiles_dropped`, `samples_dropped`.
 */

/** Extra time a transport gets beyond `timeoutMs` before its send is treated as timed out. */
const SEND_GUARD_GRACE_MS = 1_000;
/** How long `shutdown()` waits for `transport.shutdown()` after the drain. */
const TRANSPORT_SHUTDOWN_GRACE_MS = 2_000;

/** Every reason a request can be dropped for (the `reason` label). */
export type DropReason =
  | 'queue_full'
  | 'corrupt_file'
  | 'too_large'
  | 'retries_exhausted'
  | 'retry_disabled'
  | 'permanent_error'
  | 'shutdown_timeout'
  | 'queue_write_failed'
  | 'exporter_stopped';

export type DeliveryCounts = DropCounts;

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

export interface ExporterOptions {
  readonly name: string;
  readonly config: ExporterConfig;
  readonly transport: ExporterTransport;
  /**
   * Cuts a batch the backend found too large into pieces under a size (one piece = cannot cut);
   * default: the request splitter (split-on-too-large.ts).
   */
  readonly split?: BatchSplitter;
  readonly logger: Logger;
  readonly counters: Counters;
  /** For tests: virtual time. */
  readonly clock?: Clock;
  /** For tests: deterministic jitter. */
  readonly random?: () => number;
  /** Where each attempt's duration is recorded (labels exporter, outcome), for /metrics. */
  readonly latency?: LatencyHistogram;
}

type Outcome = { readonly kind: 'done' } | { readonly kind: 'abandoned'; readonly remaining: DeliveryCounts };

const DONE: Outcome = { kind: 'done' };
const ZERO: DeliveryCounts = { requests: 0, profiles: 0, samples: 0 };

function countsOf(batch: { profiles: number; samples: number }): DeliveryCounts {
  return { requests: 1, profiles: batch.profiles, samples: batch.samples };
}

function plus(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return {
    requests: a.requests + b.requests,
    profiles: a.profiles + b.profiles,
    samples: a.samples + b.samples,
  };
}

class QueuedExporter implements Exporter {
  readonly name: string;
  private readonly _options: ExporterOptions;
  private readonly _config: ExporterConfig;
  private readonly _log: Logger;
  private readonly _counters: Counters;
  private readonly _ledger: LossLedger;
  private readonly _labels: Readonly<Record<string, string>>;
  private readonly _clock: Clock;
  private readonly _queue: ExportQueue;
  private readonly _tooLarge: SplitOnTooLarge;
  /** The first refusal for size is a warning and the first lone stack dropped an error; the rest are routine. */
  private _warnedTooLarge = false;
  private _loggedTooLargeDrop = false;
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
  private _retries = 0;
  /** The queue's high-water marks (DeliveryReport.queuePeak). */
  private _queuePeakRequests = 0;
  private _queuePeakBytes = 0;
  private _outageSince: number | undefined;
  private _outageRetries = 0;
  private _delivered: DeliveryCounts = ZERO;
  private _rejected = 0;
  private _failing: string | undefined;

  constructor(options: ExporterOptions) {
    this._options = options;
    this.name = options.name;
    this._config = options.config;
    this._log = options.logger;
    this._counters = options.counters;
    this._ledger = new LossLedger(options.counters);
    this._labels = { exporter: options.name };
    this._clock = options.clock ?? systemClock;
    this._tooLarge = new SplitOnTooLarge(
      options.split ?? requestSplitter(options.config.batch.maxSamplesPerProfile),
    );
    const { queue } = options.config;
    const common = {
      limits: { maxBytes: queue.maxBytes, maxRequests: queue.maxRequests },
      onDrop: (drop: QueueDrop) => this._onQueueDrop(drop),
    };
    this._queue = queue.directory
      ? createPersistentQueue({
          ...common,
          directory: queue.directory,
          logger: options.logger,
          clock: this._clock,
        })
      : createMemoryQueue({ ...common, clock: this._clock });
  }

  start(): Promise<void> {
    this._starting ??= this._start();
    return this._starting;
  }

  async enqueue(batch: ExportBatch): Promise<void> {
    if (!this._accepting) {
      this._drop('exporter_stopped', countsOf(batch), 'the exporter is shutting down', { id: batch.id });
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
    return {
      queuedRequests: pending.requests,
      queuedBytes: pending.bytes,
      inFlight: this._inFlight,
      retries: this._retries,
      backendDown: this._outageSince !== undefined,
      ...(this._failing !== undefined ? { failing: this._failing } : {}),
    };
  }

  private async _start(): Promise<void> {
    const replayed = await this._queue.open();
    this._noteQueuePeak();
    if (replayed.requests > 0) {
      this._counters.add('requests_replayed', replayed.requests, this._labels);
      this._log.info(
        `replaying ${replayed.requests} request(s) (${replayed.bytes} bytes) from the persistent queue ${this._queue.description}`,
      );
    }
    const workers = Math.max(1, Math.floor(this._config.queue.concurrency));
    for (let i = 0; i < workers; i++) this._workers.push(this._work());
  }

  private async _store(batch: ExportBatch): Promise<void> {
    try {
      await this._starting;
      await this._queue.enqueue(batch);
    } catch (err) {
      this._drop('queue_write_failed', countsOf(batch), asError(err).message, { id: batch.id });
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
      let outcome: Outcome;
      try {
        outcome = await this._deliver(taken.batch, 0);
      } finally {
        this._inFlight -= 1;
      }
      if (outcome.kind === 'abandoned') {
        // A persistent batch stays on disk for the next start (close() reports it); a memory
        // batch is lost here, so count what of it was not delivered.
        if (this._queue.kind === 'memory') {
          this._drop(
            'shutdown_timeout',
            outcome.remaining,
            'the shutdown deadline passed while it was in flight',
            {
              id: taken.entry.id,
            },
          );
          await this._queue.complete(taken.entry);
        }
        return;
      }
      await this._queue.complete(taken.entry);
    }
  }

  /** Sends one batch until it is delivered, dropped (counted) or abandoned at the deadline. */
  private async _deliver(batch: ExportBatch, depth: number): Promise<Outcome> {
    const pieces = this._tooLarge.beforeSend(batch, depth);
    if (pieces.length > 1) {
      this._log.debug(
        `cutting a ${batch.bytes.length}-byte request into ${pieces.length} pieces before sending: ` +
          `the backend refused ${this._tooLarge.refusedBytes ?? '?'} bytes as too large`,
        { id: batch.id },
      );
      return this._deliverPieces(pieces, depth + 1);
    }
    const { retry } = this._config;
    const backoff = createBackoff(retry, {
      clock: this._clock,
      ...(this._options.random ? { random: this._options.random } : {}),
    });
    for (;;) {
      const response = await this._send(batch);
      if (!response) return { kind: 'abandoned', remaining: countsOf(batch) };
      switch (response.status) {
        case 'success':
          this._tooLarge.onAccepted(batch);
          this._onDelivered(batch, response);
          return DONE;
        case 'failure':
          if (response.tooLarge) return this._splitAndResend(batch, response.error, depth);
          this._drop(
            'permanent_error',
            countsOf(batch),
            `the backend refused it: ${response.error.message}`,
            {
              id: batch.id,
              level: 'error',
            },
          );
          return DONE;
        case 'retryable': {
          if (!retry.enabled) {
            this._drop(
              'retry_disabled',
              countsOf(batch),
              `sending failed (${response.error.message}) and retry.enabled is false`,
              { id: batch.id, level: 'error' },
            );
            return DONE;
          }
          this._onRetryableFailure(response.error);
          const delay = backoff.nextDelayMs(response.retryAfterMs);
          if (delay === undefined) {
            this._drop(
              'retries_exhausted',
              countsOf(batch),
              `still failing after ${Math.round(backoff.elapsedMs() / 1000)} s of retries; the next ` +
                `one would pass retry.max_elapsed_time (${retry.maxElapsedMs} ms; raise it, or 0 = retry ` +
                `forever): ${response.error.message}`,
              { id: batch.id, level: 'error' },
            );
            return DONE;
          }
          this._retries += 1;
          this._outageRetries += 1;
          this._counters.add('requests_retried', 1, this._labels);
          this._log.debug(`retrying in ${delay} ms: ${response.error.message}`, {
            id: batch.id,
            attempt: backoff.attempts,
            retryAfterMs: response.retryAfterMs,
          });
          if (!(await backoff.wait(delay, this._abort.signal))) {
            return { kind: 'abandoned', remaining: countsOf(batch) };
          }
          break;
        }
      }
    }
  }

  private async _splitAndResend(batch: ExportBatch, error: Error, depth: number): Promise<Outcome> {
    const verdict = this._tooLarge.onRefused(batch, depth);
    if (verdict.kind === 'drop') {
      this._drop(
        'too_large',
        countsOf(batch),
        `the backend refused a ${batch.bytes.length}-byte request as too large (${error.message}) and ${verdict.why}; ` +
          `raise the backend's request size limit` +
          (this._loggedTooLargeDrop ? '' : ' (logged once; the end-of-run report counts every one)'),
        { id: batch.id, level: this._loggedTooLargeDrop ? 'debug' : 'error' },
      );
      this._loggedTooLargeDrop = true;
      return DONE;
    }
    this._counters.add('requests_split', 1, this._labels);
    const message =
      `the backend refused a ${batch.bytes.length}-byte request as too large (${error.message}); resending it as ` +
      `${verdict.pieces.length} pieces, and cutting later requests under ${batch.bytes.length} bytes before sending. ` +
      `Lower batch.max_request_size of exporter ${this.name} to avoid the extra round trips`;
    if (this._warnedTooLarge) this._log.debug(message, { id: batch.id });
    else this._log.warn(`${message} (logged once)`, { id: batch.id });
    this._warnedTooLarge = true;
    return this._deliverPieces(verdict.pieces, depth + 1);
  }

  /** Delivers the pieces of one batch in order; what an abandoned piece leaves is counted with the rest. */
  private async _deliverPieces(pieces: readonly ExportBatch[], depth: number): Promise<Outcome> {
    for (let i = 0; i < pieces.length; i++) {
      const outcome = await this._deliver(pieces[i] as ExportBatch, depth);
      if (outcome.kind === 'abandoned') {
        let remaining = outcome.remaining;
        for (const rest of pieces.slice(i + 1)) remaining = plus(remaining, countsOf(rest));
        return { kind: 'abandoned', remaining };
      }
    }
    return DONE;
  }

  /** One attempt; `undefined` when the shutdown deadline abandoned it. */
  private _send(batch: ExportBatch): Promise<ExportResponse | undefined> {
    const signal = this._abort.signal;
    if (signal.aborted) return Promise.resolve(undefined);
    const { timeoutMs } = this._config;
    const startedAt = this._clock.now();
    return new Promise<ExportResponse | undefined>((resolve) => {
      let settled = false;
      const finish = (response: ExportResponse | undefined): void => {
        if (settled) return;
        settled = true;
        if (response)
          this._options.latency?.observe((this._clock.now() - startedAt) / 1000, {
            exporter: this.name,
            outcome: response.status,
          });
        guard?.cancel();
        signal.removeEventListener('abort', onAbort);
        resolve(response);
      };
      const onAbort = (): void => finish(undefined);
      // Transports enforce timeoutMs themselves; the guard only catches one that never answers.
      const guard =
        timeoutMs > 0
          ? this._clock.setTimer(
              () =>
                finish({
                  status: 'retryable',
                  error: new Error(
                    `${this._options.transport.description} did not answer within ${timeoutMs + SEND_GUARD_GRACE_MS} ms`,
                  ),
                }),
              timeoutMs + SEND_GUARD_GRACE_MS,
            )
          : undefined;
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        this._options.transport.send(batch, timeoutMs).then(finish, (err: unknown) => {
          // A transport must classify its errors; one that throws is treated as transient.
          finish({ status: 'retryable', error: asError(err) });
        });
      } catch (err) {
        finish({ status: 'retryable', error: asError(err) });
      }
    });
  }

  private _onDelivered(batch: ExportBatch, response: Extract<ExportResponse, { status: 'success' }>): void {
    this._delivered = plus(this._delivered, countsOf(batch));
    this._failing = undefined;
    this._counters.add('requests_sent', 1, this._labels);
    this._counters.add('profiles_sent', batch.profiles, this._labels);
    this._counters.add('samples_sent', batch.samples, this._labels);
    const rejected = Math.max(0, response.rejectedProfiles ?? 0);
    if (rejected > 0) {
      this._rejected += rejected;
      this._ledger.rejectProfiles(this.name, rejected);
      this._log.warn(
        `the backend accepted the request partially and rejected ${rejected} of ${batch.profiles} profile(s) (not retried): ${response.message ?? 'no message'}`,
        { id: batch.id },
      );
    } else if (response.message) {
      this._log.warn(`the backend accepted the request with a warning: ${response.message}`, {
        id: batch.id,
      });
    }
    if (this._outageSince !== undefined) {
      const seconds = Math.round((this._clock.now() - this._outageSince) / 1000);
      this._log.info(
        `${this._options.transport.description} is reachable again after ${seconds} s (${this._outageRetries} retries)`,
        { queued: this._queue.pending().requests },
      );
      this._outageSince = undefined;
      this._outageRetries = 0;
    }
  }

  private _onRetryableFailure(error: Error): void {
    if (this._outageSince !== undefined) return;
    this._outageSince = this._clock.now();
    this._outageRetries = 0;
    this._log.warn(
      `sending to ${this._options.transport.description} failed: ${error.message}; retrying with backoff ` +
        `(logged once; recovery is logged too)`,
      { queued: this._queue.pending().requests },
    );
  }

  private _onQueueDrop(drop: QueueDrop): void {
    const counts = { requests: 1, profiles: drop.profiles, samples: drop.samples };
    if (drop.reason === 'corrupt_file') {
      this._drop(
        'corrupt_file',
        counts,
        `persistent queue file ${drop.file ?? '?'} is damaged (${drop.problem ?? 'unknown problem'}); ` +
          (drop.movedTo ? `moved aside to ${drop.movedTo}` : 'it could not be moved aside'),
        { id: drop.id },
      );
    } else {
      this._drop(
        'queue_full',
        counts,
        `the queue is full (queue.max_requests=${this._config.queue.maxRequests}, queue.max_size=${this._config.queue.maxBytes} bytes); ` +
          'dropped the oldest request. The backend is too slow or down; raise the queue bounds or fix the backend',
        { id: drop.id, bytes: drop.bytes },
      );
    }
  }

  private _drop(
    reason: DropReason,
    counts: DeliveryCounts,
    why: string,
    fields: { id?: string | undefined; bytes?: number; level?: 'debug' | 'warn' | 'error' } = {},
  ): void {
    if (counts.requests === 0 && counts.profiles === 0 && counts.samples === 0) return;
    this._ledger.dropDelivery(this.name, reason, counts);
    if (EXPORT_FAILURE_REASONS.has(reason)) this._failing = `${reason}: ${why}`;
    this._log[fields.level ?? 'warn'](`dropped ${counts.requests} request(s): ${why}`, {
      reason,
      requests: counts.requests,
      profiles: counts.profiles,
      samples: counts.samples,
      id: fields.id,
      bytes: fields.bytes,
    });
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
        this._log.warn(
          `${pendingOnDisk.requests} request(s) (${pendingOnDisk.bytes} bytes) were not delivered before the deadline; ` +
            `they stay in ${this._queue.description} and are sent on the next start`,
        );
      }
    } else {
      let lost = ZERO;
      for (const entry of left) lost = plus(lost, countsOf(entry));
      pendingInMemoryDropped =
        lost.requests + (this._ledger.droppedBy(this.name).shutdown_timeout?.requests ?? 0);
      this._drop(
        'shutdown_timeout',
        lost,
        `the shutdown deadline (${deadlineMs} ms) passed with requests still queued`,
      );
    }

    await this._shutdownTransport();
    const dropped: Partial<Record<DropReason, DeliveryCounts>> = this._ledger.droppedBy(this.name);
    return {
      delivered: this._delivered,
      rejectedByBackend: this._rejected,
      dropped,
      pendingOnDisk,
      pendingInMemoryDropped,
      queuePeak: { requests: this._queuePeakRequests, bytes: this._queuePeakBytes },
    };
  }

  private async _shutdownTransport(): Promise<void> {
    let timer: { cancel(): void } | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = systemClock.setTimer(() => resolve('timeout'), TRANSPORT_SHUTDOWN_GRACE_MS);
    });
    try {
      const result = await Promise.race([
        this._options.transport.shutdown().then(() => 'ok' as const),
        gaveUp,
      ]);
      if (result === 'timeout') {
        this._log.warn(
          `${this._options.transport.description} did not shut down within ${TRANSPORT_SHUTDOWN_GRACE_MS} ms`,
        );
      }
    } catch (err) {
      this._log.warn(`shutting down ${this._options.transport.description} failed: ${asError(err).message}`);
    } finally {
      timer?.cancel();
    }
  }
}

/** The delivery lane of one exporter; call `start()` before `enqueue()`. */
export function createExporter(options: ExporterOptions): Exporter {
  return new QueuedExporter(options);
}
