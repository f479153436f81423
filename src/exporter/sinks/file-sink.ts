import { createReadStream } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import type { ExporterConfig } from '../../config/exporter-config.js';
import { toOtlpJson } from '../../profiles/encoding/otlp-json.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { ExporterTransport } from '../exporter-transport.js';
import { setLongTimeout } from '../../util/long-timeout.js';
import { classifyIoError } from './io-error.js';
import { errorText } from '../../util/error-text.js';

/**
 * The `file` exporter, in the OpenTelemetry Collector file exporter's two formats: `json` writes one
 * OTLP/JSON ExportProfilesServiceRequest per line; `proto` writes each request's protobuf bytes
 * after its length as a 4-byte big-endian unsigned integer. `path: -` writes to stdout.
 *
 * Each request is one write call, so concurrent appenders never interleave inside a request; a
 * short write (disk filling up) is truncated away, so the file never holds half a request.
 */

/** Length prefix of one `proto` record. */
const FRAME_HEADER_BYTES = 4;
/** A longer record means the file is not length-prefixed protobuf (e.g. JSON read as proto). */
const MAX_RECORD_BYTES = 256 * 1024 * 1024;

export interface FileSinkDeps extends ExporterDeps {
  /** Destination of `path: -` (tests pass their own stream); defaults to process.stdout. */
  readonly stdout?: Writable;
}

/** One request as it goes into the file: framed protobuf or one JSON line. */
export function encodeFileRecord(batch: ExportBatch, format: 'json' | 'proto'): Buffer {
  if (format === 'proto') {
    const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + batch.bytes.length);
    out.writeUInt32BE(batch.bytes.length, 0);
    out.set(batch.bytes, FRAME_HEADER_BYTES);
    return out;
  }
  let json = toOtlpJson(batch.request(), { bytesEncoding: 'hex' });
  // One request per line: a pretty-printed encoding would break the line framing.
  if (json.includes('\n')) json = JSON.stringify(JSON.parse(json));
  return Buffer.from(`${json}\n`, 'utf8');
}

/** Appends `data` to `path` completely or not at all (a short write is truncated away). */
async function appendRecord(path: string, data: Buffer): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'a');
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'ENOENT') throw error;
    await mkdir(dirname(path), { recursive: true });
    handle = await open(path, 'a');
  }
  try {
    const before = (await handle.stat()).size;
    let written = 0;
    try {
      while (written < data.length) {
        const { bytesWritten } = await handle.write(data, written, data.length - written);
        if (bytesWritten === 0) throw Object.assign(new Error('write returned 0 bytes'), { code: 'EIO' });
        written += bytesWritten;
      }
    } catch (error) {
      if (written > 0) await handle.truncate(before).catch(() => undefined);
      throw error;
    }
  } finally {
    await handle.close();
  }
}

type StreamOutcome = { ok: true } | { ok: false; error: Error; timedOut: boolean };

/** Resolves once `stream` can take more data (immediately when it can), or on error/close/timeout. */
function whenWritable(stream: Writable, timeoutMs: number): Promise<StreamOutcome> {
  if (!stream.writableNeedDrain) return Promise.resolve({ ok: true });
  return new Promise((resolveOutcome) => {
    const done = (outcome: StreamOutcome): void => {
      timer.clear();
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
      resolveOutcome(outcome);
    };
    const onDrain = (): void => done({ ok: true });
    const onError = (error: Error): void => done({ ok: false, error, timedOut: false });
    const onClose = (): void =>
      done({
        ok: false,
        error: Object.assign(new Error('stdout was closed'), { code: 'EPIPE' }),
        timedOut: false,
      });
    const timer = setLongTimeout(
      () =>
        done({ ok: false, error: new Error(`stdout did not drain within ${timeoutMs} ms`), timedOut: true }),
      timeoutMs,
    );
    timer.unref();
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

/**
 * The `file` exporter. Errors: a full disk or descriptor exhaustion is retryable; a path that is a
 * directory, a missing permission or a closed stdout pipe is permanent.
 */
export function createFileSink(config: ExporterConfig, deps: FileSinkDeps): ExporterTransport {
  const configKey = `operator.otel-profiles.exporters.${config.name}.path`;
  if (config.path === undefined || config.path === '') {
    throw new Error(
      `file exporter "${config.name}" needs a path (a file, or - for stdout): set ${configKey}`,
    );
  }
  const toStdout = config.path === '-';
  const path = toStdout ? '-' : resolve(config.path);
  const format = config.format;
  const logger = deps.logger.child(`file ${config.name}`);
  const labels = { exporter: config.name };
  const stdout = toStdout ? (deps.stdout ?? process.stdout) : undefined;
  let stdoutError: Error | undefined;
  // Without a listener an EPIPE on stdout would crash the process; remember it and fail sends instead.
  const onStdoutError = (error: Error): void => {
    stdoutError ??= error;
    logger.error('stdout failed; file exporter output stops', { error: error.message });
  };
  stdout?.on('error', onStdoutError);
  /** Sends are serialised so records never interleave and a truncation only undoes its own write. */
  let tail: Promise<unknown> = Promise.resolve();

  const writeStdout = async (
    stream: Writable,
    data: Buffer,
    timeoutMs: number,
    batchId: string,
  ): Promise<ExportResponse> => {
    const what = `file exporter "${config.name}": cannot write to stdout`;
    if (stdoutError) return classifyIoError(stdoutError, what, configKey);
    if (stream.destroyed || stream.writableEnded) {
      return classifyIoError(
        Object.assign(new Error('stdout is closed'), { code: 'EPIPE' }),
        what,
        configKey,
      );
    }
    const ready = await whenWritable(stream, timeoutMs);
    if (!ready.ok) {
      // Nothing of this request was written yet, so a retry cannot duplicate it.
      if (ready.timedOut)
        return {
          status: 'retryable',
          error: new Error(`${what}: ${ready.error.message} (the reader is slow)`),
        };
      return classifyIoError(ready.error, what, configKey);
    }
    return new Promise<ExportResponse>((resolveResponse) => {
      // The request is now in the stream's buffer and will be written once the reader catches up:
      // after the timeout it counts as sent (a retry would duplicate it); the next send then waits
      // for 'drain' above, which is where a stalled reader turns into retryable backpressure.
      const timer = setLongTimeout(() => {
        logger.warn('stdout reader is slow; request left buffered', {
          batch: batchId,
          timeout_ms: timeoutMs,
        });
        resolveResponse({ status: 'success' });
      }, timeoutMs);
      timer.unref();
      stream.write(data, (error) => {
        timer.clear();
        resolveResponse(error ? classifyIoError(error, what, configKey) : { status: 'success' });
      });
    });
  };

  const sendNow = async (batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> => {
    let data: Buffer;
    try {
      data = encodeFileRecord(batch, format);
    } catch (error) {
      const message = errorText(error);
      return {
        status: 'failure',
        error: new Error(
          `file exporter "${config.name}": batch ${batch.id} cannot be encoded as ${format}: ${message}`,
          {
            cause: error,
          },
        ),
      };
    }
    let response: ExportResponse;
    if (stdout) {
      response = await writeStdout(stdout, data, timeoutMs, batch.id);
    } else {
      try {
        await appendRecord(path, data);
        response = { status: 'success' };
      } catch (error) {
        response = classifyIoError(
          error,
          `file exporter "${config.name}": cannot append to ${path}`,
          configKey,
        );
      }
    }
    if (response.status === 'success') {
      deps.counters.add('file_requests_written', 1, labels);
      deps.counters.add('sink_bytes_written', data.length, labels);
    }
    return response;
  };

  return {
    description: `file ${toStdout ? 'stdout' : path} (${format})`,

    send(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> {
      const result = tail.then(() => sendNow(batch, timeoutMs));
      tail = result.catch(() => undefined);
      return result;
    },

    async shutdown(): Promise<void> {
      await tail;
      stdout?.off('error', onStdoutError);
    },
  };
}

/** Concatenates buffered chunks only when a whole record is available (no quadratic copying). */
class ChunkBuffer {
  private _chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this._chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns the first `n` bytes (n ≤ length). */
  take(n: number): Buffer {
    const all =
      this._chunks.length === 1
        ? (this._chunks[0] ?? Buffer.alloc(0))
        : Buffer.concat(this._chunks, this.length);
    const head = Buffer.from(all.subarray(0, n));
    const rest = all.subarray(n);
    this._chunks = rest.length > 0 ? [rest] : [];
    this.length = rest.length;
    return head;
  }

  peekUInt32BE(): number {
    const first = this._chunks[0];
    if (first && first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    const all = Buffer.concat(this._chunks, this.length);
    this._chunks = [all];
    return all.readUInt32BE(0);
  }
}

function openInput(path: string): Readable {
  return path === '-' ? process.stdin : createReadStream(path);
}

/**
 * Reads a file written by the file exporter (or the Collector's file exporter): yields each
 * request's protobuf bytes (`proto`) or JSON text (`json`). `-` reads stdin. Throws on a
 * truncated or implausible record, naming its byte offset.
 */
export function readOtlpFile(path: string, format: 'proto'): AsyncGenerator<Uint8Array>;
export function readOtlpFile(path: string, format: 'json'): AsyncGenerator<string>;
export function readOtlpFile(path: string, format: 'json' | 'proto'): AsyncGenerator<Uint8Array | string>;
export async function* readOtlpFile(
  path: string,
  format: 'json' | 'proto',
): AsyncGenerator<Uint8Array | string> {
  if (format === 'json') {
    const lines = createInterface({ input: openInput(path), crlfDelay: Infinity });
    for await (const line of lines) {
      const text = line.trim();
      if (text !== '') yield text;
    }
    return;
  }
  const pending = new ChunkBuffer();
  let offset = 0;
  for await (const chunk of openInput(path)) {
    pending.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
    while (pending.length >= FRAME_HEADER_BYTES) {
      const length = pending.peekUInt32BE();
      if (length > MAX_RECORD_BYTES) {
        throw new Error(
          `${path}: record at byte ${offset} claims ${length} bytes; this is not a length-prefixed protobuf file (a JSON file? read it with format json)`,
        );
      }
      if (pending.length < FRAME_HEADER_BYTES + length) break;
      const record = pending.take(FRAME_HEADER_BYTES + length);
      yield new Uint8Array(record.buffer, record.byteOffset + FRAME_HEADER_BYTES, length);
      offset += FRAME_HEADER_BYTES + length;
    }
  }
  if (pending.length > 0) {
    throw new Error(
      `${path}: truncated record at byte ${offset}: ${pending.length} trailing bytes do not form a whole record`,
    );
  }
}
