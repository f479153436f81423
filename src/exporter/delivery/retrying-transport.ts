import type { RetryPolicy } from '../../util/backoff.js';
import { createBackoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import { asError } from '../../util/error-text.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';

/**
 * Retry as a decorator over a transport, in the shape of opentelemetry-js's `RetryingTransport`:
 * `send` tries the inner transport again while it answers `retryable`, waiting the backoff of the
 * exporter's `retry.*` keys (util/backoff.ts; a fresh schedule per send) and at least as long as the
 * server asked (Retry-After, google.rpc.RetryInfo). Success and permanent failure come back as they
 * are; a retryable answer comes back only when retrying stopped, saying why: retry is disabled, the
 * next delay would pass `retry.max_elapsed_time`, or the lane was abandoned (the shutdown deadline),
 * which ends a wait or an attempt in flight at once.
 */

export type RetryableResponse = Extract<ExportResponse, { status: 'retryable' }>;

/** Why a send stopped retrying (the first two are drop reasons of the ledger). */
export type GiveUpReason = 'retry_disabled' | 'retries_exhausted' | 'abandoned';

export interface GaveUpResponse extends RetryableResponse {
  readonly gaveUp: GiveUpReason;
  /** Time since the first attempt of this send. */
  readonly retriedForMs: number;
}

/** The end of a retried send: the inner transport's final answer, or the retryable one given up on. */
export type RetriedResponse = Exclude<ExportResponse, RetryableResponse> | GaveUpResponse;

export interface RetryEvents {
  /** A retryable answer while retry is enabled, before the next delay is decided. */
  readonly onRetryableFailure?: (batch: ExportBatch, response: RetryableResponse) => void;
  /** Another attempt of `batch` follows in `delayMs`; `attempt` counts the retries of this send, this one included. */
  readonly onRetry?: (
    batch: ExportBatch,
    retry: { readonly delayMs: number; readonly attempt: number; readonly response: RetryableResponse },
  ) => void;
}

export interface RetryingTransportOptions extends RetryEvents {
  readonly policy: RetryPolicy;
  /** For tests: virtual time. */
  readonly clock?: Clock;
  /** For tests: deterministic jitter. */
  readonly random?: () => number;
  /** Aborting gives every send up as `abandoned` at once, without waiting for an attempt in flight. */
  readonly abandon?: AbortSignal;
}

const ABANDONED_ERROR = 'abandoned: the lane stopped waiting for this send';

export class RetryingTransport implements ExporterTransport {
  readonly description: string;
  private readonly _inner: ExporterTransport;
  private readonly _options: RetryingTransportOptions;
  private readonly _clock: Clock;

  constructor(inner: ExporterTransport, options: RetryingTransportOptions) {
    this._inner = inner;
    this.description = inner.description;
    this._options = options;
    this._clock = options.clock ?? systemClock;
  }

  async send(batch: ExportBatch, timeoutMs: number): Promise<RetriedResponse> {
    const { policy, abandon } = this._options;
    const backoff = createBackoff(policy, {
      clock: this._clock,
      ...(this._options.random ? { random: this._options.random } : {}),
    });
    const giveUp = (response: RetryableResponse, gaveUp: GiveUpReason): GaveUpResponse => ({
      ...response,
      gaveUp,
      retriedForMs: backoff.elapsedMs(),
    });
    const abandoned = (): GaveUpResponse =>
      giveUp({ status: 'retryable', error: new Error(ABANDONED_ERROR) }, 'abandoned');
    for (;;) {
      const response = await this._attempt(batch, timeoutMs);
      if (!response) return abandoned();
      if (response.status !== 'retryable') return response;
      if (!policy.enabled) return giveUp(response, 'retry_disabled');
      this._options.onRetryableFailure?.(batch, response);
      const delayMs = backoff.nextDelayMs(response.retryAfterMs);
      if (delayMs === undefined) return giveUp(response, 'retries_exhausted');
      this._options.onRetry?.(batch, { delayMs, attempt: backoff.attempts, response });
      if (!(await backoff.wait(delayMs, abandon))) return abandoned();
    }
  }

  shutdown(): Promise<void> {
    return this._inner.shutdown();
  }

  /** One attempt; `undefined` when the lane was abandoned before it answered. */
  private _attempt(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse | undefined> {
    const { abandon } = this._options;
    if (abandon?.aborted) return Promise.resolve(undefined);
    return new Promise<ExportResponse | undefined>((resolve) => {
      const onAbort = (): void => resolve(undefined);
      abandon?.addEventListener('abort', onAbort, { once: true });
      const settle = (response: ExportResponse): void => {
        abandon?.removeEventListener('abort', onAbort);
        resolve(response);
      };
      // A transport that throws instead of classifying its error failed transiently.
      const failed = (err: unknown): void => settle({ status: 'retryable', error: asError(err) });
      try {
        this._inner.send(batch, timeoutMs).then(settle, failed);
      } catch (err) {
        failed(err);
      }
    });
  }
}
