import type { Clock, TimerHandle } from '../util/clock.js';
import { systemClock } from '../util/clock.js';

/**
 * The bound of a session's end (`--shutdown-timeout`). It starts at the first of a SIGINT/SIGTERM
 * and the end of the input, and covers everything after it: waiting for the input to end (stdin's
 * grace, IG's final flush), the last flush and the exporters' drain. A second signal abandons it at
 * once; what is still pending is then counted as dropped (or left in a persistent queue).
 */
export class ShutdownDeadline {
  private readonly _timeoutMs: number;
  private readonly _clock: Clock;
  private readonly _expired = new AbortController();
  private _startedAt: number | undefined;
  private _timer: TimerHandle | undefined;
  private _abandoned = false;
  private _inputCut = false;

  constructor(timeoutMs: number, clock: Clock = systemClock) {
    this._timeoutMs = Math.max(0, timeoutMs);
    this._clock = clock;
  }

  /** Starts the countdown; later calls keep the first start. */
  start(): void {
    if (this._startedAt !== undefined) return;
    this._startedAt = this._clock.now();
    if (this._timeoutMs === 0) this._expired.abort();
    else this._timer = this._clock.setTimer(() => this._expired.abort(), this._timeoutMs);
  }

  /** Ends the shutdown now (a second signal). */
  abandon(): void {
    this._abandoned = true;
    this.start();
    this._expired.abort();
  }

  get abandoned(): boolean {
    return this._abandoned;
  }

  /** readUntilExpired() stopped reading before its input ended. */
  get inputCut(): boolean {
    return this._inputCut;
  }

  /** Aborted when the deadline passes or the shutdown is abandoned. */
  get signal(): AbortSignal {
    return this._expired.signal;
  }

  /** Milliseconds left (the whole timeout before start()). */
  remainingMs(): number {
    if (this._expired.signal.aborted) return 0;
    if (this._startedAt === undefined) return this._timeoutMs;
    return Math.max(0, this._timeoutMs - (this._clock.now() - this._startedAt));
  }

  /**
   * Yields what `items` yields until it ends or the deadline passes; then stops reading without
   * waiting for the source (a stdin that never ends, a daemon that never sends its final flush).
   */
  async *readUntilExpired<T>(items: AsyncIterable<T>): AsyncGenerator<T> {
    const iterator = items[Symbol.asyncIterator]();
    const signal = this._expired.signal;
    let finished = false;
    try {
      for (;;) {
        const next = iterator.next();
        // One abort listener per read, removed after it: racing every read against one long-lived
        // promise would pile a reaction per read onto it, each holding that read's batch (a leak
        // that filled a 192 MiB heap in 30 s at 5,000 rows/s).
        let onAbort: (() => void) | undefined;
        const expired = new Promise<'expired'>((resolve) => {
          onAbort = () => resolve('expired');
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        });
        let result: IteratorResult<T> | 'expired';
        try {
          result = await Promise.race([next, expired]);
        } finally {
          if (onAbort) signal.removeEventListener('abort', onAbort);
        }
        if (result === 'expired') {
          this._inputCut = true;
          next.catch(() => undefined); // abandoned: a late failure is not ours to report
          return;
        }
        if (result.done) {
          finished = true;
          return;
        }
        yield result.value;
      }
    } finally {
      if (!finished) void iterator.return?.(undefined).catch(() => undefined);
    }
  }

  /** Cancels the timer (the session is over). */
  dispose(): void {
    this._timer?.cancel();
  }
}
