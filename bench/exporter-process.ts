import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from './bench-harness.js';
import type { FeedOptions, FeedResult } from './paced-feeder.js';
import { feedLines } from './paced-feeder.js';
import type { ProcessSample, ProcessSampler } from './process-sampler.js';
import { startProcessSampler } from './process-sampler.js';
import { CLI_ENTRY, benchNodeArgs, ensureDistBuilt, productionNodeOptions } from './shipped-cli.js';

/**
 * Runs one exporter process for the delivery benchmarks: the CLI as shipped (`node
 * bin/ig-otel-profiles.js export …` on the compiled dist/, with the image's NODE_OPTIONS; see
 * shipped-cli.ts) reading IG JSON lines from a pipe that a paced feeder fills, with its
 * CPU and RSS sampled from /proc, its final `--report-json` read back, and its stderr kept for
 * diagnosis. Also runs the bare-`node` stdin reader that serves as the footprint baseline.
 */

/** How long the CLI may take to print "exporter ready" (loading dist/ takes well under a second). */
export const READY_TIMEOUT_MS = 30_000;
/** After end of input, how long the process may take to flush, drain and exit before SIGKILL. */
export const EXIT_GRACE_MS = 240_000;
/** Stderr kept for the report (tail). */
export const STDERR_TAIL_BYTES = 4_000;

/** The `--report-json` file `export` writes (see src/cli/command-context.ts). */
export interface ExportReportJson {
  readonly exitCode: number;
  readonly counters: readonly { name: string; labels: Record<string, string>; value: number }[];
  readonly exporters: Readonly<
    Record<
      string,
      {
        delivered: { requests: number; profiles: number; samples: number };
        rejectedByBackend: number;
        dropped: Readonly<Record<string, { requests: number; profiles: number; samples: number }>>;
        pendingOnDisk: { requests: number; bytes: number };
        /** Absent in reports of versions before it existed. */
        queuePeak?: { requests: number; bytes: number };
      }
    >
  >;
}

/** Sum of a counter over all label sets. */
export function counterTotal(report: ExportReportJson, name: string): number {
  return report.counters.filter((c) => c.name === name).reduce((a, c) => a + c.value, 0);
}

export interface ProcessRun {
  readonly feed: FeedResult;
  readonly samples: readonly ProcessSample[];
  /** Wall-clock ms from the first line written to the end of the feed. */
  readonly feedWindow: { readonly fromMs: number; readonly toMs: number };
  readonly exitCode: number | null;
  readonly report?: ExportReportJson;
  readonly stderrTail: string;
  /** The command line that ran, with its NODE_OPTIONS (for the method text). */
  readonly launcher: string;
  /** Whether dist/ had to be rebuilt first. */
  readonly buildNote?: string;
  /**
   * With `traceGc`: V8's live heap after each full (mark-compact) collection, on the samples' time
   * axis. What the process really retains, without RSS's allocator and GC-timing noise.
   */
  readonly majorGcs?: readonly MajorGc[];
}

export interface MajorGc {
  /** Milliseconds since the sampler started (the axis of `ProcessRun.samples`). */
  readonly atMs: number;
  /** V8 heap in use right after the collection. */
  readonly liveBytes: number;
}

export interface ExporterRunOptions extends Omit<FeedOptions, 'onTick'> {
  readonly workDir: string;
  readonly label: string;
  readonly configYaml: string;
  readonly exporterName: string;
  readonly shutdownTimeout: string;
  readonly onTick?: (index: number, sampler: ProcessSampler) => void | Promise<void>;
  /** Run node with `--trace-gc` and record the live heap after every mark-compact (`majorGcs`). */
  readonly traceGc?: boolean;
}

/** `--trace-gc`'s line for a full collection: `… Mark-Compact 55.6 (74.2) -> 45.8 (80.6) MB, …`. */
const MARK_COMPACT_LINE = /Mark-Compact [\d.]+ \([\d.]+\) -> ([\d.]+) \([\d.]+\) MB/;

/** Collects `--trace-gc` mark-compact lines from the child's stdout, stamped on arrival. */
function collectMajorGcs(child: ChildProcess): { atEpochMs: number; liveBytes: number }[] {
  const gcs: { atEpochMs: number; liveBytes: number }[] = [];
  let pending = '';
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      const m = MARK_COMPACT_LINE.exec(line);
      if (m?.[1]) gcs.push({ atEpochMs: Date.now(), liveBytes: Number(m[1]) * 1024 * 1024 });
    }
  });
  return gcs;
}

export function waitExit(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolveExit) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolveExit(child.exitCode);
      return;
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveExit(code);
    });
  });
}

export function collectStderr(child: ChildProcess): {
  text: () => string;
  waitFor: (needle: string, ms: number) => Promise<boolean>;
} {
  let text = '';
  const waiters: { needle: string; resolve: (ok: boolean) => void }[] = [];
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-64_000);
    for (const w of [...waiters]) {
      if (text.includes(w.needle)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(true);
      }
    }
  });
  return {
    text: () => text,
    waitFor: (needle, ms) =>
      text.includes(needle)
        ? Promise.resolve(true)
        : new Promise((resolveWait) => {
            const waiter = { needle, resolve: resolveWait };
            waiters.push(waiter);
            setTimeout(() => {
              const i = waiters.indexOf(waiter);
              if (i !== -1) {
                waiters.splice(i, 1);
                resolveWait(false);
              }
            }, ms);
            child.once('exit', () => resolveWait(text.includes(needle)));
          }),
  };
}

async function feedAndSample(
  child: ChildProcess,
  options: Omit<FeedOptions, 'onTick'> & { onTick?: ExporterRunOptions['onTick'] },
): Promise<{
  feed: FeedResult;
  sampler: ProcessSampler;
  window: { fromMs: number; toMs: number };
  t0: number;
}> {
  const sampler = startProcessSampler(child.pid as number);
  const t0 = Date.now(); // the sampler's time zero, give or take a millisecond
  const stdin = child.stdin;
  if (!stdin) throw new Error('child has no stdin pipe');
  stdin.on('error', () => undefined); // EPIPE if the child dies: its exit code tells the story
  const fromMs = Date.now();
  const feed = await feedLines(stdin, {
    ...options,
    onTick: options.onTick ? (i) => options.onTick?.(i, sampler) : undefined,
  });
  // The last line covers one more interval.
  await sleep(options.intervalMs);
  const toMs = Date.now();
  sampler.sampleNow();
  return { feed, sampler, window: { fromMs: fromMs - t0, toMs: toMs - t0 }, t0 };
}

/**
 * The config file the exporter processes run with: one OTLP/HTTP exporter named `bench`, protobuf
 * and gzip as by default; `queue` is a YAML flow mapping such as `{max_size: 4194304}`.
 */
export function benchExporterConfig(endpoint: string, queue?: string): string {
  return [
    'operator:',
    '  otel-profiles:',
    '    exporters:',
    '      bench:',
    '        exporter: otlp-http',
    `        endpoint: ${endpoint}`,
    '        insecure: true',
    '        compression: gzip',
    ...(queue ? [`        queue: ${queue}`] : []),
    '',
  ].join('\n');
}

/** Runs `export` on a paced feed; resolves when the process exited (or was killed). */
export async function runExporterProcess(options: ExporterRunOptions): Promise<ProcessRun> {
  const configPath = join(options.workDir, `${options.label}.yaml`);
  const reportPath = join(options.workDir, `${options.label}-report.json`);
  writeFileSync(configPath, options.configYaml);
  const buildNote = await ensureDistBuilt();
  const nodeOptions = productionNodeOptions();
  const child = spawn(
    process.execPath,
    [
      ...benchNodeArgs(),
      ...(options.traceGc ? ['--trace-gc'] : []),
      CLI_ENTRY,
      'export',
      '--config',
      configPath,
      '--otel-profiles-exporter',
      options.exporterName,
      '--shutdown-timeout',
      options.shutdownTimeout,
      '--report-json',
      reportPath,
    ],
    {
      stdio: ['pipe', options.traceGc ? 'pipe' : 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: nodeOptions },
    },
  );
  const stderr = collectStderr(child);
  const gcs = options.traceGc ? collectMajorGcs(child) : undefined;
  const ready = await stderr.waitFor('exporter ready', READY_TIMEOUT_MS);
  if (!ready) {
    child.kill('SIGKILL');
    await waitExit(child, 5_000);
    throw new Error(
      `${options.label}: the exporter did not start: ${stderr.text().slice(-STDERR_TAIL_BYTES)}`,
    );
  }
  const { feed, sampler, window, t0 } = await feedAndSample(child, options);
  sampler.setPhase('drain');
  child.stdin?.end();
  const exitCode = await waitExit(child, EXIT_GRACE_MS);
  const samples = sampler.stop();
  const report = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ExportReportJson)
    : undefined;
  const text = stderr.text();
  const launcher = `NODE_OPTIONS="${nodeOptions}" node bin/ig-otel-profiles.js export`;
  return {
    feed,
    samples,
    feedWindow: window,
    exitCode,
    ...(report ? { report } : {}),
    stderrTail: text.slice(-STDERR_TAIL_BYTES),
    launcher,
    buildNote,
    ...(gcs ? { majorGcs: gcs.map((g) => ({ atMs: g.atEpochMs - t0, liveBytes: g.liveBytes })) } : {}),
  };
}

/** Node's -e program of the bare baseline: receive stdin and discard it. */
const BARE_READER_SCRIPT = "process.stdin.on('data', () => {});";
/**
 * Node's -e program of the parse floor: split stdin into lines and JSON.parse each one, nothing
 * else (no framing checks, no lossless numbers, no rows kept). What any JSON-line consumer pays.
 */
const PARSING_READER_SCRIPT = [
  'let parts = [];',
  "process.stdin.on('data', (c) => {",
  '  let s = 0, i;',
  '  while ((i = c.indexOf(10, s)) !== -1) {',
  '    parts.push(c.subarray(s, i));',
  "    JSON.parse(Buffer.concat(parts).toString('utf8'));",
  '    parts = [];',
  '    s = i + 1;',
  '  }',
  '  if (s < c.length) parts.push(Buffer.from(c.subarray(s)));',
  '});',
].join('\n');

async function runNodeScript(
  options: Omit<FeedOptions, 'onTick'>,
  script: string,
  nodeOptions: string,
  launcher: string,
): Promise<ProcessRun> {
  const child = spawn(process.execPath, ['-e', script], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: nodeOptions },
  });
  const stderr = collectStderr(child);
  await sleep(500); // node itself starts in well under this
  const { feed, sampler, window } = await feedAndSample(child, options);
  child.stdin?.end();
  const exitCode = await waitExit(child, 10_000);
  return {
    feed,
    samples: sampler.stop(),
    feedWindow: window,
    exitCode,
    stderrTail: stderr.text(),
    launcher,
  };
}

/** The footprint baseline: a bare `node` that reads stdin and discards it. */
export function runBareReader(options: Omit<FeedOptions, 'onTick'>): Promise<ProcessRun> {
  return runNodeScript(options, BARE_READER_SCRIPT, '', 'node -e (bare stdin reader)');
}

/**
 * The JSON floor: a `node` (with the image's NODE_OPTIONS) that splits stdin into lines and
 * JSON.parses each; informative, it shows what parsing the input alone costs.
 */
export function runParsingReader(options: Omit<FeedOptions, 'onTick'>): Promise<ProcessRun> {
  return runNodeScript(
    options,
    PARSING_READER_SCRIPT,
    productionNodeOptions(),
    'node -e (line split + JSON.parse only)',
  );
}

/**
 * CPU % of one core over the feed window, its 1 s peak, and its average over the window's second
 * half (code optimised and caches filled: what a long-running process costs); RSS average and
 * peak over the window.
 */
export function usageOverFeed(run: ProcessRun): {
  cpuAvgPct: number;
  cpuPeakPct: number;
  cpuSecondHalfPct: number;
  rssAvg: number;
  rssPeak: number;
} {
  const inWindow = run.samples.filter(
    (s) => s.atMs >= run.feedWindow.fromMs && s.atMs <= run.feedWindow.toMs,
  );
  const first = inWindow[0];
  const last = inWindow[inWindow.length - 1];
  if (!first || !last || last.atMs === first.atMs)
    return { cpuAvgPct: NaN, cpuPeakPct: NaN, cpuSecondHalfPct: NaN, rssAvg: NaN, rssPeak: NaN };
  const middle = inWindow.find((s) => s.atMs >= (first.atMs + last.atMs) / 2) ?? last;
  let peak = 0;
  for (let i = 1; i < inWindow.length; i++) {
    const a = inWindow[i - 1] as ProcessSample;
    const b = inWindow[i] as ProcessSample;
    if (b.atMs > a.atMs)
      peak = Math.max(peak, (100 * (b.cpuSeconds - a.cpuSeconds) * 1000) / (b.atMs - a.atMs));
  }
  return {
    cpuAvgPct: (100 * (last.cpuSeconds - first.cpuSeconds) * 1000) / (last.atMs - first.atMs),
    cpuPeakPct: peak,
    cpuSecondHalfPct:
      last.atMs > middle.atMs
        ? (100 * (last.cpuSeconds - middle.cpuSeconds) * 1000) / (last.atMs - middle.atMs)
        : NaN,
    rssAvg: inWindow.reduce((a, s) => a + s.rssBytes, 0) / inWindow.length,
    rssPeak: Math.max(...inWindow.map((s) => s.rssBytes)),
  };
}
