/**
 * Liveness of the event loop for /healthz. The HTTP server answering /healthz runs on the same
 * loop it judges, so two cases are told apart:
 * - a loop wedged for good (an endless synchronous loop) answers nothing: the probe's own timeout
 *   fails it, which is why /healthz does no work of its own;
 * - a loop that still turns but stalls (long synchronous stretches, e.g. a huge parse) is seen by
 *   a heartbeat timer: each tick measures how late it fired, and /healthz answers 503 while a stall
 *   longer than the bound happened within the recent window (timers run before the poll phase that
 *   serves the request, so the stall that delayed the request is already recorded when it is read).
 */

/** How often the heartbeat ticks. */
export const HEARTBEAT_INTERVAL_MS = 1_000;
/**
 * A stall longer than this fails /healthz: well above GC pauses and the longest synchronous work
 * the pipeline does per batch, well under a kubelet's default failure threshold (3 × 10 s).
 */
export const DEFAULT_MAX_STALL_MS = 5_000;
/** A stall fails /healthz this long after it ended (enough for a probe every 10 s to see it). */
export const STALL_MEMORY_MS = 30_000;

export type Liveness = { readonly alive: true } | { readonly alive: false; readonly reason: string };

export interface EventLoopWatch {
  liveness(): Liveness;
  stop(): void;
}

export interface EventLoopWatchOptions {
  readonly maxStallMs?: number;
  readonly intervalMs?: number;
  readonly now?: () => number;
}

export function watchEventLoop(options: EventLoopWatchOptions = {}): EventLoopWatch {
  const maxStallMs = options.maxStallMs ?? DEFAULT_MAX_STALL_MS;
  const intervalMs = options.intervalMs ?? Math.min(HEARTBEAT_INTERVAL_MS, Math.max(10, maxStallMs / 4));
  const now = options.now ?? (() => performance.now());
  let lastTick = now();
  let stall: { readonly at: number; readonly ms: number } | undefined;
  const timer = setInterval(() => {
    const t = now();
    const late = t - lastTick - intervalMs;
    if (late > maxStallMs) stall = { at: t, ms: late };
    lastTick = t;
  }, intervalMs);
  // The watch must never be what keeps the process alive.
  timer.unref();
  return {
    liveness() {
      const t = now();
      const sinceTick = t - lastTick - intervalMs;
      if (sinceTick > maxStallMs)
        return { alive: false, reason: `event loop: no heartbeat for ${Math.round(sinceTick)} ms` };
      if (stall && t - stall.at <= STALL_MEMORY_MS)
        return {
          alive: false,
          reason: `event loop blocked for ${Math.round(stall.ms)} ms ${Math.round((t - stall.at) / 1000)} s ago (bound ${maxStallMs} ms)`,
        };
      return { alive: true };
    },
    stop: () => clearInterval(timer),
  };
}
