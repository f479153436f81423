import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import { asError } from '../../util/error-text.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';

/**
 * A transport that cannot stall its lane, as a decorator: a send that has not answered shortly
 * after its timeout is a retryable failure, a send that throws is one too (a transport must
 * classify its errors; one that throws is treated as transient), and `shutdown()` never rejects and
 * is not waited for beyond a grace period. Transports enforce `timeoutMs` themselves; the guard only
 * catches one that never answers.
 */

/** Extra time a transport gets beyond `timeoutMs` before its send is treated as timed out. */
export const SEND_GUARD_GRACE_MS = 1_000;
/** How long `shutdown()` waits for the transport's own shutdown. */
export const SHUTDOWN_GRACE_MS = 2_000;

export interface TimeoutGuardOptions {
  /** Times the sends (virtual in tests); the shutdown grace is always real time. */
  readonly clock?: Clock;
  /** Where a shutdown that failed or hung is reported. */
  readonly logger: Logger;
}

class TimeoutGuard implements ExporterTransport {
  readonly description: string;
  private readonly _inner: ExporterTransport;
  private readonly _clock: Clock;
  private readonly _log: Logger;

  constructor(inner: ExporterTransport, options: TimeoutGuardOptions) {
    this._inner = inner;
    this.description = inner.description;
    this._clock = options.clock ?? systemClock;
    this._log = options.logger;
  }

  send(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> {
    return new Promise<ExportResponse>((resolve) => {
      let settled = false;
      const finish = (response: ExportResponse): void => {
        if (settled) return;
        settled = true;
        guard?.cancel();
        resolve(response);
      };
      const limitMs = timeoutMs + SEND_GUARD_GRACE_MS;
      const guard =
        timeoutMs > 0
          ? this._clock.setTimer(
              () =>
                finish({
                  status: 'retryable',
                  error: new Error(`${this.description} did not answer within ${limitMs} ms`),
                }),
              limitMs,
            )
          : undefined;
      try {
        this._inner.send(batch, timeoutMs).then(finish, (err: unknown) => {
          finish({ status: 'retryable', error: asError(err) });
        });
      } catch (err) {
        finish({ status: 'retryable', error: asError(err) });
      }
    });
  }

  async shutdown(): Promise<void> {
    let timer: { cancel(): void } | undefined;
    const gaveUp = new Promise<'timeout'>((resolve) => {
      timer = systemClock.setTimer(() => resolve('timeout'), SHUTDOWN_GRACE_MS);
    });
    try {
      const result = await Promise.race([this._inner.shutdown().then(() => 'ok' as const), gaveUp]);
      if (result === 'timeout') {
        this._log.warn(`${this.description} did not shut down within ${SHUTDOWN_GRACE_MS} ms`);
      }
    } catch (err) {
      this._log.warn(`shutting down ${this.description} failed: ${asError(err).message}`);
    } finally {
      timer?.cancel();
    }
  }
}

/** `transport` guarded against sends and a shutdown that never end. */
export function guardTimeouts(transport: ExporterTransport, options: TimeoutGuardOptions): ExporterTransport {
  return new TimeoutGuard(transport, options);
}
