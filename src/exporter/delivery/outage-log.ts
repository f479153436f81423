import type { Clock } from '../../util/clock.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { RetryableResponse } from './retrying-transport.js';

/**
 * How a backend outage shows: one warning when the first attempt fails retryably, each retry only
 * at debug level (and counted, `requests_retried`), and one line when a request goes through again,
 * with how long the backend was down and how many retries it took. A log that stays quiet while
 * retrying is what lets an outage of hours be read at all.
 */

export interface OutageLogOptions extends ExporterDeps {
  readonly exporter: string;
  readonly clock: Clock;
  /** The transport's description (no secrets). */
  readonly backend: string;
  /** Requests waiting in the queue, shown with the warning and the recovery. */
  readonly queued: () => number;
}

export class OutageLog {
  private readonly _options: OutageLogOptions;
  private readonly _labels: Readonly<Record<string, string>>;
  private _since: number | undefined;
  private _outageRetries = 0;
  private _retries = 0;

  constructor(options: OutageLogOptions) {
    this._options = options;
    this._labels = { exporter: options.exporter };
  }

  /** The last attempt failed retryably and no success followed yet. */
  get down(): boolean {
    return this._since !== undefined;
  }

  /** Retries so far, over the exporter's life. */
  get retries(): number {
    return this._retries;
  }

  /** An attempt failed retryably: the first one of an outage is a warning. */
  failed(error: Error): void {
    if (this._since !== undefined) return;
    this._since = this._options.clock.now();
    this._outageRetries = 0;
    this._options.logger.warn(
      `sending to ${this._options.backend} failed: ${error.message}; retrying with backoff ` +
        `(logged once; recovery is logged too)`,
      { queued: this._options.queued() },
    );
  }

  /** `batch` is sent again in `delayMs` (its `attempt`-th retry) after `response`. */
  retrying(
    batch: ExportBatch,
    retry: { readonly delayMs: number; readonly attempt: number; readonly response: RetryableResponse },
  ): void {
    this._retries += 1;
    this._outageRetries += 1;
    this._options.counters.add('requests_retried', 1, this._labels);
    this._options.logger.debug(`retrying in ${retry.delayMs} ms: ${retry.response.error.message}`, {
      id: batch.id,
      attempt: retry.attempt,
      retryAfterMs: retry.response.retryAfterMs,
    });
  }

  /** A request was delivered: ends the outage, if there was one. */
  recovered(): void {
    if (this._since === undefined) return;
    const seconds = Math.round((this._options.clock.now() - this._since) / 1000);
    this._options.logger.info(
      `${this._options.backend} is reachable again after ${seconds} s (${this._outageRetries} retries)`,
      { queued: this._options.queued() },
    );
    this._since = undefined;
    this._outageRetries = 0;
  }
}
