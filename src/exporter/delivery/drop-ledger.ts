import type { LogLevel } from '../../observability/logger.js';
import { EXPORT_FAILURE_REASONS, LossLedger } from '../../observability/loss-ledger.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { QueueDrop, QueueLimits } from '../queue/export-queue.js';
import type { DeliveryCounts } from './delivery-counts.js';

/**
 * What one exporter's lane lost, in one place: every drop is counted in the loss ledger
 * (`requests_dropped`, `profiles_dropped`, `samples_dropped`, labelled `exporter` and `reason`),
 * logged with its reason, and, when it is a failure of the export itself, remembered as why the
 * exporter is failing (/readyz) until the next delivery.
 */

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

export interface DropDetails {
  /** The batch id, when known. */
  readonly id?: string | undefined;
  readonly bytes?: number;
  /** Default `warn`. */
  readonly level?: Extract<LogLevel, 'debug' | 'warn' | 'error'>;
}

export class DropLedger {
  private readonly _exporter: string;
  private readonly _deps: ExporterDeps;
  private readonly _ledger: LossLedger;
  private _failing: string | undefined;

  constructor(exporter: string, deps: ExporterDeps) {
    this._exporter = exporter;
    this._deps = deps;
    this._ledger = new LossLedger(deps.counters);
  }

  /** Why the last finished request failed for good, if no delivery followed. */
  get failing(): string | undefined {
    return this._failing;
  }

  /** Counts and logs a drop; nothing at all (all counts 0) is not one. */
  drop(reason: DropReason, counts: DeliveryCounts, why: string, details: DropDetails = {}): void {
    if (counts.requests === 0 && counts.profiles === 0 && counts.samples === 0) return;
    this._ledger.dropDelivery(this._exporter, reason, counts);
    if (EXPORT_FAILURE_REASONS.has(reason)) this._failing = `${reason}: ${why}`;
    this._deps.logger[details.level ?? 'warn'](`dropped ${counts.requests} request(s): ${why}`, {
      reason,
      requests: counts.requests,
      profiles: counts.profiles,
      samples: counts.samples,
      id: details.id,
      bytes: details.bytes,
    });
  }

  /** A batch the queue dropped by itself (full, or a damaged file), with the keys that bound it. */
  dropFromQueue(drop: QueueDrop, limits: QueueLimits): void {
    const counts = { requests: 1, profiles: drop.profiles, samples: drop.samples };
    if (drop.reason === 'corrupt_file') {
      this.drop(
        'corrupt_file',
        counts,
        `persistent queue file ${drop.file ?? '?'} is damaged (${drop.problem ?? 'unknown problem'}); ` +
          (drop.movedTo ? `moved aside to ${drop.movedTo}` : 'it could not be moved aside'),
        { id: drop.id },
      );
    } else {
      this.drop(
        'queue_full',
        counts,
        `the queue is full (queue.max_requests=${limits.maxRequests}, queue.max_size=${limits.maxBytes} bytes); ` +
          'dropped the oldest request. The backend is too slow or down; raise the queue bounds or fix the backend',
        { id: drop.id, bytes: drop.bytes },
      );
    }
  }

  /** Profiles the backend rejected in a partial-success answer (`profiles_rejected`, never retried). */
  rejectProfiles(profiles: number): void {
    this._ledger.rejectProfiles(this._exporter, profiles);
  }

  /** A request was delivered: the exporter is no longer failing. */
  delivered(): void {
    this._failing = undefined;
  }

  /** What this exporter dropped so far, by reason (read back from the ledger, build-time cuts included). */
  droppedByReason(): Partial<Record<DropReason, DeliveryCounts>> {
    return this._ledger.droppedBy(this._exporter);
  }
}
