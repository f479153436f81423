import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';

/** Generous: these tests wait on real processes and sockets on a loaded machine. */
export const WAIT_MS = 30_000;

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `predicate` until it holds; rejects naming `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

export interface WatchedCli {
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** Its exit code (null when a signal killed it). */
  readonly exit: Promise<number | null>;
  /** Resolves once stderr matches. */
  waitForStderr(pattern: RegExp, what: string): Promise<void>;
}

/** Collects a spawned CLI's stderr and its exit (see spawnCli). */
export function watchCli(child: ChildProcess): WatchedCli {
  let stderr = '';
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  const exit = once(child, 'exit').then(([code]) => code as number | null);
  return {
    stderr: () => stderr,
    exit,
    waitForStderr: (pattern, what) => until(() => pattern.test(stderr), what),
  };
}

/** The `--report-json` file's shape, as far as tests read it. */
export interface ReportJson {
  exitCode: number;
  counters: { name: string; labels: Record<string, string>; value: number }[];
  exporters: Record<
    string,
    { delivered: { requests: number; samples: number }; dropped: Record<string, { samples: number }> }
  >;
}

/** Sum of a counter's values in a report, over the entries with these labels. */
export function reportCounter(report: ReportJson, name: string, labels: Record<string, string> = {}): number {
  return report.counters
    .filter((c) => c.name === name && Object.entries(labels).every(([k, v]) => c.labels[k] === v))
    .reduce((a, c) => a + c.value, 0);
}
