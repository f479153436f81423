import { cpus, totalmem } from 'node:os';

/**
 * Shared pieces of the benchmark suite: run options, result records, timing helpers and the
 * machine description. Every benchmark reports ratios against a baseline measured in the same
 * run, because the machine's absolute speed varies from run to run.
 */

/** Options every benchmark receives from `run-benchmarks.ts`. */
export interface BenchOptions {
  /** Smaller sizes and shorter phases: a smoke test, not a measurement. */
  readonly quick: boolean;
  /** Progress lines (stderr). */
  readonly log: (message: string) => void;
}

/** Outcome of one target check. `n/a` when the benchmark could not measure it. */
export type Verdict = 'PASS' | 'MISS' | 'n/a';

/** One row of a benchmark's result table: a measured quantity next to its baseline and target. */
export interface Measurement {
  readonly what: string;
  readonly baseline: string;
  readonly ours: string;
  readonly ratio: string;
  readonly target: string;
  readonly verdict: Verdict;
}

/** What a benchmark hands back for the report. */
export type BenchResult =
  | {
      readonly status: 'ran';
      readonly measurements: readonly Measurement[];
      /** Method and definitions, as markdown paragraphs/bullets. */
      readonly method: readonly string[];
      /** Extra tables or notes (markdown lines). */
      readonly details: readonly string[];
    }
  | { readonly status: 'not-run'; readonly reason: string; readonly method: readonly string[] };

export interface Benchmark {
  /** `--only` name. */
  readonly name: string;
  readonly title: string;
  /** Which issue's performance section it answers. */
  readonly issue: string;
  run(options: BenchOptions): Promise<BenchResult>;
}

/** Milliseconds of wall time for `fn`. */
export async function timeMs(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return NaN;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** Asks V8 for a full collection between timed runs when `--expose-gc` is on (it is not by default). */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

/** `12,345` */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** 3 significant digits, thousands separated: `1,234`, `56.7`, `0.123`. */
export function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  const abs = Math.abs(n);
  if (abs >= 1000) return fmtInt(n);
  if (abs >= 100) return n.toFixed(0);
  if (abs >= 10) return n.toFixed(1);
  if (abs >= 1) return n.toFixed(2);
  return n.toPrecision(3);
}

export function fmtRatio(n: number): string {
  return `${fmt(n)}×`;
}

export function fmtMiB(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export function verdict(pass: boolean): Verdict {
  return pass ? 'PASS' : 'MISS';
}

export interface MachineDescription {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memory: string;
  readonly node: string;
  readonly platform: string;
}

export function describeMachine(): MachineDescription {
  const list = cpus();
  return {
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memory: `${(totalmem() / 1024 ** 3).toFixed(0)} GiB`,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Sleeps. Not unref'd: the benchmark run is what keeps the process alive while it waits. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
