import type { RetryPolicy } from '../../util/backoff.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { DeliveryCounts } from './delivery-counts.js';
import { countsOf, NO_DELIVERIES, plus } from './delivery-counts.js';
import type { DropLedger } from './drop-ledger.js';
import type { OutageLog } from './outage-log.js';
import type { GaveUpResponse, RetriedResponse } from './retrying-transport.js';
import type { SplitOnTooLarge } from './split-on-too-large.js';

/**
 * One batch through the retrying transport until every sample of it is delivered, dropped
 * (counted, with the reason) or abandoned at the shutdown deadline. A batch the backend refuses as
 * too large is cut by the split policy and its pieces delivered in order, the same way; delivered
 * requests, profiles and samples are counted here (`requests_sent`, `profiles_sent`,
 * `samples_sent`, `requests_split`).
 */

/** How the delivery of one batch ended; `remaining`: what of it was neither delivered nor dropped. */
export type DeliveryOutcome =
  { readonly kind: 'done' } | { readonly kind: 'abandoned'; readonly remaining: DeliveryCounts };

const DONE: DeliveryOutcome = { kind: 'done' };

export interface BatchDeliveryOptions extends ExporterDeps {
  readonly exporter: string;
  /** The transport with retry (and its guards) around it. */
  readonly transport: { send(batch: ExportBatch, timeoutMs: number): Promise<RetriedResponse> };
  readonly timeoutMs: number;
  readonly policy: RetryPolicy;
  readonly tooLarge: SplitOnTooLarge;
  readonly drops: DropLedger;
  readonly outage: OutageLog;
}

type Success = Extract<ExportResponse, { status: 'success' }>;

export class BatchDelivery {
  private readonly _options: BatchDeliveryOptions;
  private readonly _labels: Readonly<Record<string, string>>;
  private _delivered: DeliveryCounts = NO_DELIVERIES;
  private _rejected = 0;
  /** The first refusal for size is a warning and the first lone stack dropped an error; the rest are routine. */
  private _warnedTooLarge = false;
  private _loggedTooLargeDrop = false;

  constructor(options: BatchDeliveryOptions) {
    this._options = options;
    this._labels = { exporter: options.exporter };
  }

  /** What the backend accepted (profiles include any it rejected by partial success). */
  get delivered(): DeliveryCounts {
    return this._delivered;
  }

  /** Profiles the backend rejected in partial-success answers. */
  get rejectedByBackend(): number {
    return this._rejected;
  }

  deliver(batch: ExportBatch): Promise<DeliveryOutcome> {
    return this._deliver(batch, 0);
  }

  /** `depth`: how many times the batch was already cut. */
  private async _deliver(batch: ExportBatch, depth: number): Promise<DeliveryOutcome> {
    const { tooLarge, drops } = this._options;
    const pieces = tooLarge.beforeSend(batch, depth);
    if (pieces.length > 1) {
      this._options.logger.debug(
        `cutting a ${batch.bytes.length}-byte request into ${pieces.length} pieces before sending: ` +
          `the backend refused ${tooLarge.refusedBytes ?? '?'} bytes as too large`,
        { id: batch.id },
      );
      return this._deliverPieces(pieces, depth + 1);
    }
    const response = await this._options.transport.send(batch, this._options.timeoutMs);
    switch (response.status) {
      case 'success':
        tooLarge.onAccepted(batch);
        this._onDelivered(batch, response);
        return DONE;
      case 'failure':
        if (response.tooLarge) return this._splitAndResend(batch, response.error, depth);
        drops.drop('permanent_error', countsOf(batch), `the backend refused it: ${response.error.message}`, {
          id: batch.id,
          level: 'error',
        });
        return DONE;
      case 'retryable':
        return this._gaveUp(batch, response);
    }
  }

  private _gaveUp(batch: ExportBatch, response: GaveUpResponse): DeliveryOutcome {
    const { drops, policy } = this._options;
    switch (response.gaveUp) {
      case 'abandoned':
        return { kind: 'abandoned', remaining: countsOf(batch) };
      case 'retry_disabled':
        drops.drop(
          'retry_disabled',
          countsOf(batch),
          `sending failed (${response.error.message}) and retry.enabled is false`,
          { id: batch.id, level: 'error' },
        );
        return DONE;
      case 'retries_exhausted':
        drops.drop(
          'retries_exhausted',
          countsOf(batch),
          `still failing after ${Math.round(response.retriedForMs / 1000)} s of retries; the next ` +
            `one would pass retry.max_elapsed_time (${policy.maxElapsedMs} ms; raise it, or 0 = retry ` +
            `forever): ${response.error.message}`,
          { id: batch.id, level: 'error' },
        );
        return DONE;
    }
  }

  private async _splitAndResend(batch: ExportBatch, error: Error, depth: number): Promise<DeliveryOutcome> {
    const verdict = this._options.tooLarge.onRefused(batch, depth);
    if (verdict.kind === 'drop') {
      this._options.drops.drop(
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
    this._options.counters.add('requests_split', 1, this._labels);
    const message =
      `the backend refused a ${batch.bytes.length}-byte request as too large (${error.message}); resending it as ` +
      `${verdict.pieces.length} pieces, and cutting later requests under ${batch.bytes.length} bytes before sending. ` +
      `Lower batch.max_request_size of exporter ${this._options.exporter} to avoid the extra round trips`;
    if (this._warnedTooLarge) this._options.logger.debug(message, { id: batch.id });
    else this._options.logger.warn(`${message} (logged once)`, { id: batch.id });
    this._warnedTooLarge = true;
    return this._deliverPieces(verdict.pieces, depth + 1);
  }

  /** Delivers the pieces of one batch in order; what an abandoned piece leaves is counted with the rest. */
  private async _deliverPieces(pieces: readonly ExportBatch[], depth: number): Promise<DeliveryOutcome> {
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

  private _onDelivered(batch: ExportBatch, response: Success): void {
    const { counters, logger, drops } = this._options;
    this._delivered = plus(this._delivered, countsOf(batch));
    drops.delivered();
    counters.add('requests_sent', 1, this._labels);
    counters.add('profiles_sent', batch.profiles, this._labels);
    counters.add('samples_sent', batch.samples, this._labels);
    const rejected = Math.max(0, response.rejectedProfiles ?? 0);
    if (rejected > 0) {
      this._rejected += rejected;
      drops.rejectProfiles(rejected);
      logger.warn(
        `the backend accepted the request partially and rejected ${rejected} of ${batch.profiles} profile(s) (not retried): ${response.message ?? 'no message'}`,
        { id: batch.id },
      );
    } else if (response.message) {
      logger.warn(`the backend accepted the request with a warning: ${response.message}`, { id: batch.id });
    }
    this._options.outage.recovered();
  }
}
