/**
 * Byte inputs behind the JSON row source: a readable stream (stdin, a replayed file, a child's
 * stdout), with stop semantics per input kind. Followed files and child processes build on this.
 */
import type { Readable } from 'node:stream';

/** The input restarted from a new byte 0 (a followed file was rotated or truncated). */
export const INPUT_RESTART = Symbol('input-restart');

export type InputChunk = Buffer | typeof INPUT_RESTART;

export interface InputReader {
  /** Next chunk; undefined at end of input. Throws on read errors (message names the input). */
  next(): Promise<InputChunk | undefined>;
  /** Ask the input to end; what is still readable is delivered first (per input kind). */
  stop(): Promise<void>;
  /** After next() returned undefined: throws when the input failed (a child exited non-zero). */
  finish(): Promise<void>;
  /** Releases everything (the consumer stopped early). Idempotent. */
  close(): void;
}

/** Bytes buffered ahead of the consumer before the stream is paused. */
export const STREAM_HIGH_WATER_BYTES = 4 * 1024 * 1024;

export interface StreamReaderOptions {
  /** Input name for error messages (`stdin`, a path). */
  readonly name: string;
  /**
   * What stop() does: `'drain'` keeps reading until the stream ends (a child's stdout: the child
   * is being asked to exit); a number waits that many ms for the end, then gives up (stdin: an
   * upstream `ig` that got the same Ctrl-C flushes its maps and exits); `0` ends at once (replay).
   */
  readonly onStop: 'drain' | number;
  /** Destroy the stream on close (not for process.stdin, which others may still use). */
  readonly destroyOnClose: boolean;
}

const ignoreError = (): void => undefined;

/** Reads a Readable chunk by chunk with backpressure; ends early when stop()ped. */
export function createStreamReader(
  stream: NodeJS.ReadableStream | Readable,
  options: StreamReaderOptions,
): InputReader {
  const queue: Buffer[] = [];
  let queuedBytes = 0;
  let ended = false;
  let failure: Error | undefined;
  let stopped = false;
  let closed = false;
  let wake: (() => void) | undefined;
  let stopTimer: NodeJS.Timeout | undefined;
  const endWaiters: (() => void)[] = [];

  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    queue.push(buf);
    queuedBytes += buf.length;
    if (queuedBytes >= STREAM_HIGH_WATER_BYTES) stream.pause();
    notify();
  };
  const onEnd = (): void => {
    ended = true;
    for (const w of endWaiters.splice(0)) w();
    notify();
  };
  const onError = (err: Error): void => {
    failure = new Error(`${options.name}: read failed: ${err.message}`, { cause: err });
    onEnd();
  };
  stream.on('data', onData);
  stream.on('end', onEnd);
  stream.on('close', onEnd);
  stream.on('error', onError);
  stream.resume();

  const detach = (): void => {
    stream.off('data', onData);
    stream.off('end', onEnd);
    stream.off('close', onEnd);
    stream.off('error', onError);
    stream.on('error', ignoreError); // a late error must not crash the process
  };

  return {
    async next() {
      for (;;) {
        const buf = queue.shift();
        if (buf) {
          queuedBytes -= buf.length;
          if (queuedBytes < STREAM_HIGH_WATER_BYTES && !ended && !closed) stream.resume();
          return buf;
        }
        if (failure) throw failure;
        if (ended || closed) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    async stop() {
      if (stopped || ended) return;
      stopped = true;
      if (options.onStop === 'drain') return;
      if (options.onStop > 0) {
        await new Promise<void>((resolve) => {
          endWaiters.push(resolve);
          stopTimer = setTimeout(resolve, options.onStop as number);
          stopTimer.unref(); // bounded by the session's shutdown deadline, which holds the process
        });
        clearTimeout(stopTimer);
      }
      if (!ended) {
        // Give up on the rest: what is queued is still delivered, then the input ends.
        ended = true;
        detach();
        stream.pause();
        notify();
      }
    },
    finish() {
      return failure ? Promise.reject(failure) : Promise.resolve();
    },
    close() {
      if (closed) return;
      closed = true;
      clearTimeout(stopTimer);
      detach();
      for (const w of endWaiters.splice(0)) w();
      if (options.destroyOnClose && 'destroy' in stream && typeof stream.destroy === 'function')
        stream.destroy();
      else stream.pause();
      notify();
    },
  };
}
