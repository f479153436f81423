import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExporterConfig, QueueConfig } from '../../src/config/exporter-config.js';
import type { RetryPolicy } from '../../src/util/backoff.js';
import type { ExportBatch } from '../../src/exporter/export-batch.js';
import type { ExportResponse } from '../../src/exporter/export-response.js';
import type { ExporterTransport } from '../../src/exporter/exporter-transport.js';
import type { Clock, TimerHandle, TimerOptions } from '../../src/util/clock.js';
import type { Logger } from '../../src/observability/logger.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';

/**
 * Test doubles for the delivery tests: a virtual clock, a scripted in-process transport, batches
 * that are real encoded requests naming their id, a config builder and a log recorder.
 */

interface VirtualTimer {
  readonly due: number;
  readonly order: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/**
 * Virtual time: a timer fires once everything else has settled (one timer per event-loop turn,
 * earliest first), and `now()` jumps to its due time. A 30 s backoff takes no wall time, and the
 * times at which a transport was called are exactly the delays the code asked for.
 */
export class VirtualClock implements Clock {
  private _now: number;
  private _order = 0;
  private _timers: VirtualTimer[] = [];
  private _scheduled = false;

  constructor(start = 1_000_000) {
    this._now = start;
  }

  now(): number {
    return this._now;
  }

  setTimer(callback: () => void, delayMs: number, _options?: TimerOptions): TimerHandle {
    const timer: VirtualTimer = {
      due: this._now + Math.max(0, delayMs),
      order: this._order++,
      callback,
      cancelled: false,
    };
    this._timers.push(timer);
    this._schedule();
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Pending (not cancelled) timers. */
  get pendingTimers(): number {
    return this._timers.filter((t) => !t.cancelled).length;
  }

  private _schedule(): void {
    if (this._scheduled) return;
    this._scheduled = true;
    setImmediate(() => {
      this._scheduled = false;
      this._fireNext();
    });
  }

  private _fireNext(): void {
    this._timers = this._timers.filter((t) => !t.cancelled);
    if (this._timers.length === 0) return;
    let next = this._timers[0]!;
    for (const t of this._timers)
      if (t.due < next.due || (t.due === next.due && t.order < next.order)) next = t;
    this._timers = this._timers.filter((t) => t !== next);
    this._now = Math.max(this._now, next.due);
    next.callback();
    if (this._timers.length > 0) this._schedule();
  }
}

/** What the scripted transport answers: a response, or `hang` (never answers). */
export type ScriptedAnswer = ExportResponse | 'hang' | Promise<ExportResponse>;

export interface TransportCall {
  readonly id: string;
  /** 0 for the first attempt of this batch id. */
  readonly attempt: number;
  /** Clock reading when send() was called. */
  readonly at: number;
  readonly timeoutMs: number;
}

/**
 * An ExporterTransport that answers from a script (batch, attempt) and records every call and
 * every successfully delivered batch id.
 */
export class ScriptedTransport implements ExporterTransport {
  readonly description = 'scripted-fake 127.0.0.1:0';
  readonly calls: TransportCall[] = [];
  /** Ids of batches answered with success, in order. */
  readonly delivered: string[] = [];
  /** Delivered batches themselves (to inspect bytes / request()). */
  readonly deliveredBatches: ExportBatch[] = [];
  shutdownCalls = 0;
  private readonly _attempts = new Map<string, number>();

  constructor(
    private readonly _script: (batch: ExportBatch, attempt: number) => ScriptedAnswer,
    private readonly _clock: Clock = { now: () => Date.now(), setTimer: () => ({ cancel: () => undefined }) },
  ) {}

  send(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> {
    const attempt = this._attempts.get(batch.id) ?? 0;
    this._attempts.set(batch.id, attempt + 1);
    this.calls.push({ id: batch.id, attempt, at: this._clock.now(), timeoutMs });
    const answer = this._script(batch, attempt);
    if (answer === 'hang') return new Promise<ExportResponse>(() => undefined);
    return Promise.resolve(answer).then((response) => {
      if (response.status === 'success') {
        this.delivered.push(batch.id);
        this.deliveredBatches.push(batch);
      }
      return response;
    });
  }

  shutdown(): Promise<void> {
    this.shutdownCalls += 1;
    return Promise.resolve();
  }

  /** Clock readings of the calls for one batch id. */
  timesOf(id: string): number[] {
    return this.calls.filter((c) => c.id === id).map((c) => c.at);
  }
}

export const SUCCESS: ExportResponse = { status: 'success' };

export function unavailable(retryAfterMs?: number): ExportResponse {
  return {
    status: 'retryable',
    error: new Error('UNAVAILABLE: connection refused'),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  };
}

/** A gate a scripted answer can wait on: `open()` releases every waiter. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** A request whose string table holds the batch id at index 1, then `padding` (to size the bytes). */
function fakeRequest(id: string, padding: string, emptyStrings: number): ExportProfilesServiceRequest {
  return {
    resourceProfiles: [],
    dictionary: {
      mappingTable: [],
      locationTable: [],
      functionTable: [],
      linkTable: [],
      stringTable: ['', id, ...Array<string>(emptyStrings).fill(''), padding],
      attributeTable: [],
      stackTable: [],
    },
  };
}

/**
 * The smallest request naming `id` whose encoding is exactly `size` bytes (or the smallest one
 * there is, when `size` is below it). A string-table entry of padding gives the size; a length
 * prefix growing by a byte can skip one size, so empty strings (2 bytes each) fill such a gap.
 */
function sizedFakeRequest(
  id: string,
  size: number,
): { request: ExportProfilesServiceRequest; bytes: Uint8Array } {
  let smallest: { request: ExportProfilesServiceRequest; bytes: Uint8Array } | undefined;
  for (let emptyStrings = 0; emptyStrings < 4; emptyStrings++) {
    const base = encodeExportRequest(fakeRequest(id, '', emptyStrings)).length;
    const longest = Math.max(0, size - base);
    for (let length = longest; length >= Math.max(0, longest - 6); length--) {
      // A recognisable non-zero payload, so a byte flipped at the end is detectable.
      const request = fakeRequest(id, 'z'.repeat(length), emptyStrings);
      const bytes = encodeExportRequest(request);
      if (bytes.length === size) return { request, bytes };
      if (!smallest || bytes.length < smallest.bytes.length) smallest = { request, bytes };
    }
  }
  if (smallest && smallest.bytes.length > size) return smallest;
  throw new Error(`no fake request of exactly ${size} bytes for ${id}`);
}

/**
 * A batch of `size` bytes (at least what its id needs): a real encoded request whose string table
 * holds the id at index 1, so a batch decoded back from its bytes (persistent-queue replay) shows
 * which one it was.
 */
export function fakeBatch(
  id: string,
  counts: { profiles?: number; samples?: number; size?: number } = {},
): ExportBatch {
  const { request, bytes } = sizedFakeRequest(id, counts.size ?? 100);
  return { id, bytes, profiles: counts.profiles ?? 2, samples: counts.samples ?? 10, request: () => request };
}

/** Splits a fake batch into two halves with their own ids and half the counts. */
export function splitInTwo(batch: ExportBatch): ExportBatch[] {
  const size = Math.ceil(batch.bytes.length / 2);
  const half = (suffix: string, profiles: number, samples: number): ExportBatch =>
    fakeBatch(`${batch.id}${suffix}`, { profiles, samples, size });
  const p = Math.floor(batch.profiles / 2);
  const s = Math.floor(batch.samples / 2);
  return [half('.a', p, s), half('.b', batch.profiles - p, batch.samples - s)];
}

export function deliveryConfig(
  overrides: {
    retry?: Partial<RetryPolicy>;
    queue?: Partial<QueueConfig>;
    timeoutMs?: number;
    name?: string;
  } = {},
): ExporterConfig {
  return {
    name: overrides.name ?? 'fake',
    exporter: 'otlp-grpc',
    endpoint: '127.0.0.1:4317',
    insecure: true,
    compression: 'none',
    headers: { authorization: 'Bearer SECRET-TOKEN-VALUE' },
    timeoutMs: overrides.timeoutMs ?? 10_000,
    tls: {},
    protocol: 'protobuf',
    jsonBytes: 'hex',
    format: 'proto',
    retry: {
      enabled: true,
      initialIntervalMs: 1_000,
      multiplier: 2,
      maxIntervalMs: 10_000,
      maxElapsedMs: 0,
      jitter: 0,
      ...overrides.retry,
    },
    batch: {
      intervalMs: 5_000,
      jitter: 0,
      maxRequestBytes: 4 << 20,
      maxSamplesPerProfile: 16_000,
      maxPendingSamples: 0,
    },
    queue: { maxBytes: 1 << 20, maxRequests: 1_000, concurrency: 1, ...overrides.queue },
    resource: { groupBy: 'process', serviceName: [], attributes: {} },
    samples: { merge: 'per-fetch' },
  };
}

/** A debug-level logger whose lines are kept. */
export function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', write: (line) => lines.push(line) }), lines };
}

/**
 * Waits (event-loop turns, so a VirtualClock keeps advancing) until `condition` holds; fails
 * after `limitMs` of wall time with `what` in the message.
 */
export async function until(condition: () => boolean, what: string, limitMs = 10_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > limitMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** A temp directory and its cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'igop-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
