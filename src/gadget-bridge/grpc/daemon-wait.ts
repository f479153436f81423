import * as grpc from '@grpc/grpc-js';
import type { Backoff } from '../../util/backoff.js';
import { createExponentialBackoff } from '../../util/backoff.js';
import type { Clock } from '../../util/clock.js';
import type { Logger } from '../../observability/logger.js';
import type { InputState } from '../../observability/session-status.js';
import { IgStreamError } from './ig-grpc-client.js';

/**
 * The one schedule for reaching IG's daemon: a stream that was lost, and a daemon that is not
 * there yet at start (a sidecar that starts before IG's container), are retried alike, with the
 * same backoff and the same bound (`--reconnect-timeout`).
 */

/** First reconnect delay. */
export const RECONNECT_INITIAL_DELAY_MS = 500;
/** Upper bound of the reconnect delay. */
export const RECONNECT_MAX_DELAY_MS = 30_000;
/** Growth of the delay per failed attempt. */
export const RECONNECT_MULTIPLIER = 2;
/** ± fraction of random jitter, so a fleet of sidecars does not reconnect in lockstep. */
export const RECONNECT_JITTER = 0.2;
/**
 * How long a lost connection is retried before the run fails; 0 = until stopped. A daemon that
 * restarts (upgrade, OOM kill, node pressure) comes back, and the exporter must be there then.
 */
export const DEFAULT_RECONNECT_MAX_ELAPSED_MS = 0;
/** While the connection stays down, a warning says so this often (attempts are logged at debug). */
export const OUTAGE_REMINDER_MS = 60_000;

export interface ReconnectOptions {
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly multiplier?: number;
  /** Give up once the connection has been down this long (default DEFAULT_RECONNECT_MAX_ELAPSED_MS; 0 = never). */
  readonly maxElapsedMs?: number;
  /** Time of the backoff (tests). */
  readonly clock?: Clock;
}

/** How long `reconnect` keeps trying before the run fails (ms; 0 = until stopped). */
export function reconnectLimitMs(reconnect: ReconnectOptions | undefined): number {
  return reconnect?.maxElapsedMs ?? DEFAULT_RECONNECT_MAX_ELAPSED_MS;
}

/** The reconnect schedule of `reconnect` (defaults above). */
export function createReconnectBackoff(reconnect: ReconnectOptions | undefined): Backoff {
  return createExponentialBackoff(
    reconnect?.initialDelayMs ?? RECONNECT_INITIAL_DELAY_MS,
    reconnect?.maxDelayMs ?? RECONNECT_MAX_DELAY_MS,
    {
      multiplier: reconnect?.multiplier ?? RECONNECT_MULTIPLIER,
      jitter: RECONNECT_JITTER,
      maxElapsedMs: reconnectLimitMs(reconnect),
      ...(reconnect?.clock ? { clock: reconnect.clock } : {}),
    },
  );
}

/** The daemon did not answer at all (nothing listens at the address yet): worth waiting for. */
export function isDaemonAbsent(err: unknown): boolean {
  return err instanceof IgStreamError && err.code === grpc.status.UNAVAILABLE && err.receivedEvents === 0;
}

export interface DaemonWaitOptions {
  readonly address: string;
  readonly reconnect?: ReconnectOptions;
  readonly logger: Logger;
  readonly status?: { setInput(state: InputState): void };
  /** Aborted: stop waiting (resolves `undefined`). */
  readonly signal?: AbortSignal;
}

/**
 * Calls `attempt` until the daemon answers it: while nothing listens at the address, waits with
 * the reconnect schedule (warning once, then every OUTAGE_REMINDER_MS) and reports the input as
 * not connected; any other error, or the bound passing, is thrown. `undefined` when aborted.
 */
export async function waitForDaemon<T>(
  attempt: () => Promise<T>,
  options: DaemonWaitOptions,
): Promise<T | undefined> {
  const { address, logger, status } = options;
  const backoff = createReconnectBackoff(options.reconnect);
  const maxElapsedMs = reconnectLimitMs(options.reconnect);
  let remindedAtMs: number | undefined;
  for (;;) {
    if (options.signal?.aborted) return undefined;
    try {
      return await attempt();
    } catch (err) {
      if (!isDaemonAbsent(err) || !(err instanceof Error)) throw err;
      const down = backoff.elapsedMs();
      const delay = backoff.nextDelayMs();
      if (delay === undefined)
        throw reconnectGaveUp("waiting for Inspektor Gadget's daemon", down, maxElapsedMs, err);
      status?.setInput({ state: 'connecting', detail: `IG daemon unreachable: ${err.message}` });
      if (remindedAtMs === undefined || down - remindedAtMs >= OUTAGE_REMINDER_MS) {
        logger.warn(
          `${err.message}; waiting for it${reconnectBound(maxElapsedMs)}` +
            (remindedAtMs === undefined ? '' : ` (${describeSeconds(down)} so far)`),
          { address },
        );
        remindedAtMs = down;
      }
      logger.debug(`next attempt in ${delay} ms`, { address });
      await backoff.wait(delay, options.signal);
    }
  }
}

export function describeSeconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** How long the reconnect schedule keeps trying, for messages: ` for up to 30.0 s` or ` until stopped`. */
export function reconnectBound(maxElapsedMs: number): string {
  return maxElapsedMs > 0 ? ` for up to ${describeSeconds(maxElapsedMs)}` : ' until stopped';
}

/** The error that ends a wait for the daemon at the reconnect bound (`--reconnect-timeout`). */
export function reconnectGaveUp(doing: string, downMs: number, maxElapsedMs: number, err: Error): Error {
  return new Error(
    `gave up ${doing} after ${describeSeconds(downMs)} (the reconnect time limit is ` +
      `${describeSeconds(maxElapsedMs)}; 0 = until stopped): ${err.message}`,
    { cause: err },
  );
}
