/**
 * setTimeout for any finite delay. Node clamps a delay above 2^31−1 ms (about 24.8 days) to 1 ms
 * and prints a TimeoutOverflowWarning, so `--timeout 600h` would fire at once: this helper arms
 * the largest timer Node honours and re-arms for the rest until the whole delay has passed.
 * `ref()` / `unref()` behave as on a Node timer and carry over to every re-armed piece.
 */

/** Largest delay Node's setTimeout honours (a signed 32-bit millisecond count). */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** The part of a Node timer this helper uses (tests pass a fake to step through long waits). */
export interface TimerPiece {
  ref(): unknown;
  unref(): unknown;
}

export interface TimerApi {
  setTimeout(callback: () => void, delayMs: number): TimerPiece;
  clearTimeout(timer: TimerPiece): void;
}

const NODE_TIMERS: TimerApi = {
  setTimeout: (callback, delayMs) => setTimeout(callback, delayMs),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

/** A pending long timeout; `clear()` is idempotent. */
export interface LongTimeout {
  /** Keeps the process alive while pending (the default, as with setTimeout). */
  ref(): LongTimeout;
  /** Lets the process exit while pending. */
  unref(): LongTimeout;
  hasRef(): boolean;
  clear(): void;
}

/**
 * Calls `callback` once `delayMs` has passed (never earlier). `Infinity` never fires; a delay that
 * is not positive (or NaN) fires on the next turn, as setTimeout does with 0.
 */
export function setLongTimeout(
  callback: () => void,
  delayMs: number,
  timers: TimerApi = NODE_TIMERS,
): LongTimeout {
  let remaining = delayMs > 0 ? Math.ceil(delayMs) : 0;
  let referenced = true;
  let piece: TimerPiece | undefined;

  const arm = (): void => {
    const step = Math.min(remaining, MAX_TIMER_DELAY_MS);
    piece = timers.setTimeout(() => {
      // A timer never fires before its delay, so subtracting what was asked is safe.
      remaining -= step;
      if (remaining > 0) arm();
      else {
        piece = undefined;
        callback();
      }
    }, step);
    if (!referenced) piece.unref();
  };
  if (remaining !== Infinity) arm();

  const handle: LongTimeout = {
    ref() {
      referenced = true;
      piece?.ref();
      return handle;
    },
    unref() {
      referenced = false;
      piece?.unref();
      return handle;
    },
    hasRef: () => referenced && piece !== undefined,
    clear() {
      if (piece) timers.clearTimeout(piece);
      piece = undefined;
    },
  };
  return handle;
}
