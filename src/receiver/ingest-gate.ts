import type { Logger } from '../observability/logger.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import type { IngestResult, ProfileStore } from '../store/profile-store.js';
import { InvalidRequestError } from '../store/store-errors.js';
import type { ReceiveOutcome } from './receive-outcome.js';
import { errorText } from '../util/error-text.js';

/**
 * How long a refused exporter is asked to wait (Retry-After / RetryInfo). One second: the store's writer
 * drains a full backlog in well under that on this class of machine, and exporters add their own jitter.
 */
export const RETRY_AFTER_MS = 1_000;

/** After a store failure (disk full, I/O error) a longer pause: the cause is rarely gone in a second. */
export const STORE_FAILURE_RETRY_AFTER_MS = 5_000;

/**
 * The one door from both receivers into the store: refuses with UNAVAILABLE + a retry delay while the
 * store's writer is saturated or the server is shutting down (so exporters back off and keep their data
 * instead of us buffering without bound), maps store errors to outcomes, and tracks requests in flight so
 * shutdown answers every one of them before the store closes.
 */
/** What the gate needs of the store (relay composes the receivers with its own sink of this shape). */
export type IngestSink = Pick<ProfileStore, 'ingest' | 'backlog'>;

/** Why a request was answered UNAVAILABLE: a sender that does not retry (IG's own operator) loses it. */
export type RefusalReason = 'shutting_down' | 'saturated' | 'store_failed';

export class IngestGate {
  private readonly inFlight = new Set<Promise<unknown>>();
  private closing = false;

  constructor(
    private readonly store: IngestSink,
    private readonly logger: Logger,
    private readonly onStored: (result: IngestResult) => void = () => undefined,
    private readonly onRefused: (reason: RefusalReason) => void = () => undefined,
  ) {}

  get pending(): number {
    return this.inFlight.size;
  }

  async ingest(request: ExportProfilesServiceRequest): Promise<ReceiveOutcome> {
    if (this.closing) {
      this.onRefused('shutting_down');
      return {
        kind: 'unavailable',
        message: 'the server is shutting down; retry against it once it is back',
        retryAfterMs: RETRY_AFTER_MS,
      };
    }
    const backlog = this.store.backlog();
    if (backlog.saturated) {
      this.onRefused('saturated');
      return {
        kind: 'unavailable',
        message:
          `the store is behind (${backlog.pendingRequests} request(s), ${backlog.pendingSamples} sample(s) ` +
          `waiting to be written); retry after the delay`,
        retryAfterMs: RETRY_AFTER_MS,
      };
    }
    // A store that throws synchronously (validation before its first await) is answered like a rejection.
    const stored = (async () => this.store.ingest(request))();
    this.inFlight.add(stored);
    try {
      const result = await stored;
      if (result.samples > 0 || result.acceptedProfiles > 0) this.onStored(result);
      return { kind: 'stored', result };
    } catch (err) {
      if (err instanceof InvalidRequestError) return { kind: 'invalid', message: err.message };
      const message = errorText(err);
      this.logger.error('cannot store a request; the exporter is asked to retry', { error: message });
      this.onRefused('store_failed');
      return {
        kind: 'unavailable',
        message: `the store cannot write this request (${message}); retry after the delay`,
        retryAfterMs: STORE_FAILURE_RETRY_AFTER_MS,
      };
    } finally {
      this.inFlight.delete(stored);
    }
  }

  /** Refuses new requests from now on and resolves once every accepted one has settled. */
  async drain(): Promise<void> {
    this.closing = true;
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }
}
