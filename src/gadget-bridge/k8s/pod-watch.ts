/**
 * One watch request on pods with @kubernetes/client-node's Watch, settled once into an outcome the
 * list + watch loops (gadget pod discovery, pod metadata) act on: the server ended the stream
 * (resume from the last resourceVersion), the resourceVersion expired (410 Gone: re-list), or it
 * failed. Guards a stream that goes silent without a FIN, which client-node never ends by itself.
 */
import type { V1Pod, Watch } from '@kubernetes/client-node';
import type { RetryPolicy } from '../../util/backoff.js';
import { errorText } from '../../util/error-text.js';

/** Asked of the server per watch request; it ends the stream then and the caller re-watches. */
export const WATCH_TIMEOUT_SECONDS = 300;
/** Grace beyond timeoutSeconds before a silent watch is presumed dead. */
export const WATCH_STALL_GRACE_SECONDS = 30;
/**
 * Retry schedule of both list + watch loops, forever: quick at first (a blip), then at most once a
 * minute (an RBAC rule or an API-server outage is fixed by a person); ±20% jitter so a DaemonSet of
 * exporters does not re-list in lockstep when the API server comes back.
 */
export const POD_WATCH_RETRY: RetryPolicy = {
  enabled: true,
  initialIntervalMs: 500,
  multiplier: 2,
  maxIntervalMs: 60_000,
  maxElapsedMs: 0,
  jitter: 0.2,
};
/** A watch that lasted at least this long was healthy: the next failure starts the backoff afresh. */
export const WATCH_HEALTHY_MS = 2_000;

export type WatchOutcome =
  | { readonly kind: 'ended'; readonly events: number }
  | { readonly kind: 'gone' }
  | { readonly kind: 'failed'; readonly error: unknown };

export interface PodWatchRequest {
  readonly watcher: Watch;
  /** `/api/v1/pods` or `/api/v1/namespaces/NS/pods`. */
  readonly path: string;
  /** Selectors and resourceVersion; bookmarks and timeoutSeconds are added. */
  readonly query: Readonly<Record<string, string | number | boolean>>;
  readonly timeoutSeconds: number;
  /** ADDED, MODIFIED or DELETED; bookmarks only advance the resourceVersion. */
  readonly onEvent: (type: string, pod: V1Pod) => void;
  /** Every resourceVersion the stream reports (events and bookmarks). */
  readonly onResourceVersion: (resourceVersion: string) => void;
  /** The caller is stopping: events are ignored and the outcome is `ended`. */
  readonly stopped: () => boolean;
}

export interface PodWatch {
  readonly outcome: Promise<WatchOutcome>;
  /** Ends the watch now (outcome `ended`). */
  readonly end: () => void;
}

/** An error for a log line: `HTTP 403: …` for API errors. */
export function apiErrorText(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code; // client-node ApiException only
  if (typeof code !== 'number' || !(err instanceof Error)) return errorText(err);
  const newline = err.message.indexOf('\n');
  return `HTTP ${code}: ${newline === -1 ? err.message : err.message.slice(0, newline)}`;
}

/** The HTTP status of a client-node error (ApiException or Watch), if it has one. */
export function httpStatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code; // client-node ApiException
  if (typeof e.statusCode === 'number') return e.statusCode; // client-node Watch
  return undefined;
}

/**
 * Whether a watch worked, so that what ended it is not part of a failure streak: it lasted
 * WATCH_HEALTHY_MS, or the server ended it after delivering events.
 */
export function watchWasHealthy(outcome: WatchOutcome, lastedMs: number): boolean {
  return lastedMs >= WATCH_HEALTHY_MS || (outcome.kind === 'ended' && outcome.events > 0);
}

export function watchPods(request: PodWatchRequest): PodWatch {
  let end: () => void = () => undefined;
  const outcome = new Promise<WatchOutcome>((resolve) => {
    let events = 0;
    let settled = false;
    let controller: AbortController | undefined;
    const finish = (result: WatchOutcome): void => {
      if (settled) return;
      // Settle first: aborting runs the done callback synchronously, which would settle as 'ended'.
      settled = true;
      clearTimeout(stallTimer);
      resolve(result);
      controller?.abort();
    };
    // The open connection keeps the process alive; this timer only guards it.
    const stallTimer = setTimeout(
      () =>
        finish({
          kind: 'failed',
          error: new Error(`watch stalled: no end after ${request.timeoutSeconds} s`),
        }),
      (request.timeoutSeconds + WATCH_STALL_GRACE_SECONDS) * 1000,
    );
    stallTimer.unref();
    end = () => finish({ kind: 'ended', events });
    request.watcher
      .watch(
        request.path,
        { ...request.query, allowWatchBookmarks: true, timeoutSeconds: request.timeoutSeconds },
        (type: string, obj: unknown) => {
          if (request.stopped() || settled) return;
          events++;
          const o = obj as V1Pod & { code?: number; message?: string };
          if (type === 'ERROR') {
            const error = Object.assign(new Error(o.message ?? 'watch ERROR event'), { code: o.code });
            finish(o.code === 410 ? { kind: 'gone' } : { kind: 'failed', error });
            return;
          }
          const rv = o.metadata?.resourceVersion;
          if (rv) request.onResourceVersion(rv);
          if (type !== 'BOOKMARK') request.onEvent(type, o);
        },
        (err: unknown) => {
          if (request.stopped()) return finish({ kind: 'ended', events });
          if (err && httpStatusOf(err) === 410) return finish({ kind: 'gone' });
          // node-fetch reports the server ending the stream as a premature close at times.
          if (err && !(err instanceof Error && /premature close|aborted/i.test(err.message)))
            return finish({ kind: 'failed', error: err });
          finish({ kind: 'ended', events });
        },
      )
      .then(
        (c: AbortController) => {
          controller = c;
          if (settled || request.stopped()) c.abort();
        },
        (err: unknown) => finish({ kind: 'failed', error: err }),
      );
  });
  return { outcome, end: () => end() };
}
