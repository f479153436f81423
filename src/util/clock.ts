/**
 * Time as the delivery code sees it: the current time and one-shot timers. Production uses the
 * system clock; tests inject a virtual clock so a 30 s backoff takes no wall time and the delays
 * the code asked for can be asserted exactly.
 */

import { setLongTimeout } from './long-timeout.js';

/** A pending timer; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void;
}

export interface TimerOptions {
  /**
   * Keep the process alive while the timer is pending. Off by default: waits (backoff, send
   * guards) must never hold the process open; while a run has work, the session's keep-alive holds
   * it (cli/process-keep-alive.ts). Only a component that is explicitly what keeps the process
   * running (the shutdown drain) sets it.
   */
  readonly keepAlive?: boolean;
}

export interface Clock {
  /** Milliseconds since an arbitrary origin (only differences are meaningful). */
  now(): number;
  setTimer(callback: () => void, delayMs: number, options?: TimerOptions): TimerHandle;
}

/**
 * Date.now() and setTimeout (chained past Node's 24.8-day limit), timers `unref()`ed unless
 * `keepAlive` is asked for.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(callback, delayMs, options) {
    const timer = setLongTimeout(callback, Math.max(0, delayMs));
    if (!options?.keepAlive) timer.unref();
    return { cancel: () => timer.clear() };
  },
};

/**
 * Resolves `true` after `delayMs`, or `false` as soon as `signal` aborts (at once if it already
 * has). The timer never keeps the process alive.
 */
export function sleep(clock: Clock, delayMs: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      timer.cancel();
      resolve(false);
    };
    const timer = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, delayMs);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
