import type { Writable } from 'node:stream';

/**
 * Writes `-o json` fetch lines into a stream at IG's pace: one line per fetch interval, on a
 * drift-free schedule (tick i at start + i·interval), like `ig run … -o json` piping into us.
 * Lines are taken round-robin from a pre-generated pool, so the feed costs the benchmark process
 * almost nothing. If the reader falls behind (pipe full), the feeder waits for `drain` and
 * records how late it was.
 */

export interface FeedOptions {
  readonly lines: readonly string[];
  readonly rowsPerLine: number;
  readonly intervalMs: number;
  /** Total lines to write. */
  readonly count: number;
  /** Called before each line is written with its index (phase changes hang off this). */
  readonly onTick?: (index: number) => void | Promise<void>;
}

export interface FeedResult {
  readonly lines: number;
  readonly rows: number;
  readonly bytes: number;
  /** Worst lateness of a tick behind its schedule (ms). */
  readonly maxLagMs: number;
}

function waitDrain(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.once('drain', done);
    stream.once('close', done);
    stream.once('error', done);
  });
}

export async function feedLines(stream: Writable, options: FeedOptions): Promise<FeedResult> {
  const start = Date.now();
  let rows = 0;
  let bytes = 0;
  let maxLag = 0;
  let written = 0;
  for (let i = 0; i < options.count; i++) {
    const due = start + i * options.intervalMs;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    maxLag = Math.max(maxLag, Date.now() - due);
    await options.onTick?.(i);
    if (stream.destroyed || stream.writableEnded) break;
    const line = options.lines[i % options.lines.length] as string;
    const ok = stream.write(`${line}\n`);
    written++;
    rows += options.rowsPerLine;
    bytes += line.length + 1;
    if (!ok) await waitDrain(stream);
  }
  return { lines: written, rows, bytes, maxLagMs: maxLag };
}
