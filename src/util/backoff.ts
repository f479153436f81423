import type { Clock } from './clock.js';
import { sleep, systemClock } from './clock.js';

/**
 * Exponential backoff as a small reusable object (in the spirit of grpc-js `BackoffTimeout`),
 * with the OpenTelemetry Collector's `configretry` semantics: the n-th delay is
 * `min(initial × multiplier^(n-1), max) × (1 ± jitter)`, and the caller gives up once the time
 * since `reset()` plus the next delay would pass `maxElapsedMs` (0 = never give up).
 *
 * A server-requested delay (HTTP `Retry-After`, gRPC `google.rpc.RetryInfo`) is a floor: the OTLP
 * spec says to wait *at least* that long, so the delay is the larger of the two.
 */

/**
 * A retry schedule. The exporter's `retry.*` keys fill one (the config layer validates them);
 * reconnects to IG and re-watches of the Kubernetes API build theirs with `createExponentialBackoff`.
 */
export interface RetryPolicy {
  readonly enabled: boolean;
  /** First delay (Collector `retry_on_failure.initial_interval`). */
  readonly initialIntervalMs: number;
  /** Growth per attempt (Collector `multiplier`). */
  readonly multiplier: number;
  /** Cap of one delay before jitter (Collector `max_interval`). */
  readonly maxIntervalMs: number;
  /** Give up after this long since `reset()`; 0 retries forever (Collector `max_elapsed_time`). */
  readonly maxElapsedMs: number;
  /** ± fraction applied to each delay (0.2 = ±20%). */
  readonly jitter: number;
}

/**
 * The Collector's `configretry` defaults (5 s × 1.5 up to 30 s, give up after 5 min), with ±20%
 * jitter instead of its ±50%: enough to keep nodes out of lockstep, without doubling the worst wait.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  enabled: true,
  initialIntervalMs: 5_000,
  multiplier: 1.5,
  maxIntervalMs: 30_000,
  maxElapsedMs: 300_000,
  jitter: 0.2,
};

export interface BackoffOptions {
  /** Uniform [0, 1) source for jitter; tests pass a constant. */
  readonly random?: () => number;
  /** Time source for elapsed-time accounting and `wait()`. */
  readonly clock?: Clock;
}

export interface Backoff {
  /**
   * The delay before the next attempt, in whole milliseconds, and advances the schedule.
   * `serverDelayMs` (Retry-After / RetryInfo) is honoured as a minimum. Returns `undefined` when
   * the time since `reset()` plus that delay would exceed `maxElapsedMs`: stop retrying.
   */
  nextDelayMs(serverDelayMs?: number): number | undefined;
  /** Back to the initial interval; elapsed time restarts now. */
  reset(): void;
  /** Milliseconds since construction or the last `reset()`. */
  elapsedMs(): number;
  /** Delays handed out since the last `reset()`. */
  readonly attempts: number;
  /** Waits `delayMs` on an unref'ed timer; `false` when `signal` aborted the wait. */
  wait(delayMs: number, signal?: AbortSignal): Promise<boolean>;
}

class ExponentialBackoff implements Backoff {
  /** Delay before jitter for the next call of nextDelayMs(). */
  private _currentMs: number;
  /** Clock reading at construction or reset(). */
  private _startedAt: number;
  /** nextDelayMs() calls since reset(). */
  private _attempts = 0;
  private readonly _initialMs: number;
  private readonly _multiplier: number;
  private readonly _maxMs: number;
  private readonly _maxElapsedMs: number;
  private readonly _jitter: number;
  private readonly _random: () => number;
  private readonly _clock: Clock;

  constructor(config: RetryPolicy, options: BackoffOptions) {
    // The config loader validates; clamping here keeps a bad value from producing a negative or
    // shrinking delay.
    this._initialMs = Math.max(0, config.initialIntervalMs);
    this._multiplier = Math.max(1, config.multiplier);
    this._maxMs = Math.max(this._initialMs, config.maxIntervalMs);
    this._maxElapsedMs = Math.max(0, config.maxElapsedMs);
    this._jitter = Math.min(1, Math.max(0, config.jitter));
    this._random = options.random ?? Math.random;
    this._clock = options.clock ?? systemClock;
    this._currentMs = this._initialMs;
    this._startedAt = this._clock.now();
  }

  get attempts(): number {
    return this._attempts;
  }

  nextDelayMs(serverDelayMs?: number): number | undefined {
    const elapsed = this.elapsedMs();
    const base = this._currentMs;
    this._currentMs = Math.min(this._currentMs * this._multiplier, this._maxMs);
    this._attempts += 1;
    let delay = Math.max(0, Math.round(base * (1 + this._jitter * (2 * this._random() - 1))));
    if (serverDelayMs !== undefined && Number.isFinite(serverDelayMs) && serverDelayMs > delay) {
      delay = Math.ceil(serverDelayMs);
    }
    if (this._maxElapsedMs > 0 && elapsed + delay > this._maxElapsedMs) return undefined;
    return delay;
  }

  reset(): void {
    this._currentMs = this._initialMs;
    this._attempts = 0;
    this._startedAt = this._clock.now();
  }

  elapsedMs(): number {
    return Math.max(0, this._clock.now() - this._startedAt);
  }

  wait(delayMs: number, signal?: AbortSignal): Promise<boolean> {
    return sleep(this._clock, delayMs, signal);
  }
}

/** A backoff schedule for one request (or any other retried operation). */
export function createBackoff(
  config: RetryPolicy = DEFAULT_RETRY_POLICY,
  options: BackoffOptions = {},
): Backoff {
  return new ExponentialBackoff(config, options);
}

export interface ScheduleOptions extends BackoffOptions {
  /** Default 2 (doubling). */
  readonly multiplier?: number;
  /** Default 0 (no jitter). */
  readonly jitter?: number;
  /** Default 0: never give up. */
  readonly maxElapsedMs?: number;
}

/**
 * The same schedule for waits outside an exporter's retry config: reconnects to IG, restarts of a
 * gadget pod's source, re-watches of the Kubernetes API.
 */
export function createExponentialBackoff(
  initialMs: number,
  maxMs: number,
  options: ScheduleOptions = {},
): Backoff {
  const config: RetryPolicy = {
    enabled: true,
    initialIntervalMs: initialMs,
    multiplier: options.multiplier ?? 2,
    maxIntervalMs: maxMs,
    maxElapsedMs: options.maxElapsedMs ?? 0,
    jitter: options.jitter ?? 0,
  };
  return createBackoff(config, options);
}
