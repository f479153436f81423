/**
 * `npm run bench`: runs the benchmark suite and writes `docs/benchmarks.md`.
 *
 *   npm run bench                      full run (≈ 12 min on 2 cores), writes docs/benchmarks.md
 *   npm run bench -- --quick           smaller sizes, short phases (smoke test)
 *   npm run bench -- --only NAME[,N2]  only these benchmarks
 *   npm run bench -- --out FILE        write the report elsewhere
 *   BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" npm run bench -- --only footprint
 *                                      profile the exporter processes (see shipped-cli.ts)
 *
 * Each benchmark runs in a process of its own. Measured: the gRPC benchmark's gRPC passes took
 * 453–475 ms alone, 586–599 ms right after the ingest benchmark in the same process and 744–866 ms
 * at the end of a full single-process run, because the JIT had specialised the shared pipeline code
 * for what ran before. A benchmark's numbers must not depend on its neighbours.
 *
 * A quick or partial run writes `.tmp/benchmarks-quick.md` / `.tmp/benchmarks-partial.md` unless
 * `--out` says otherwise, so docs/benchmarks.md only ever holds a complete, full run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Benchmark, BenchResult } from './bench-harness.js';
import { describeMachine } from './bench-harness.js';
import { bytesBenchmark } from './bytes-benchmark.js';
import { footprintBenchmark } from './footprint-benchmark.js';
import { grpcBenchmark } from './grpc-benchmark.js';
import { ingestBenchmark } from './ingest-benchmark.js';
import { outageBenchmark } from './outage-benchmark.js';
import { pageDrawBenchmark } from './page-draw-benchmark.js';
import { receiverIngestBenchmark } from './receiver-ingest-benchmark.js';
import { renderReport } from './render-report.js';
import { splitBenchmark } from './split-benchmark.js';
import { storeQueryBenchmark } from './store-query-benchmark.js';

const BENCHMARKS: readonly Benchmark[] = [
  ingestBenchmark,
  bytesBenchmark,
  splitBenchmark,
  grpcBenchmark,
  outageBenchmark,
  footprintBenchmark,
  pageDrawBenchmark,
  receiverIngestBenchmark,
  storeQueryBenchmark,
];

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
/** Heap for the in-process benchmarks: the capture (~625 MB of JSON) and its parsed rows live at once. */
const HEAP_MB = 8192;
/** Set in the re-executed process. */
const REEXEC_ENV = 'IGOP_BENCH_REEXEC';
/** Set in a benchmark's own process: `<name>` runs alone and writes its result as JSON to IGOP_BENCH_RESULT. */
const ONE_ENV = 'IGOP_BENCH_ONE';
const RESULT_ENV = 'IGOP_BENCH_RESULT';
/** The suite's start (ms since the epoch), so a benchmark process's log lines share the suite's clock. */
const STARTED_ENV = 'IGOP_BENCH_STARTED';
/** `--quick`, passed to a benchmark's process. */
const QUICK_ENV = 'IGOP_BENCH_QUICK';

/**
 * Runs the suite in a node with a larger heap and `--expose-gc` (a full collection before each
 * timed pass), which `npm run bench`'s plain `node --import tsx` does not give.
 */
function reexec(): Promise<number> {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${HEAP_MB}`,
      '--expose-gc',
      '--import',
      'tsx',
      new URL(import.meta.url).pathname,
      ...process.argv.slice(2),
    ],
    { stdio: 'inherit', env: { ...process.env, [REEXEC_ENV]: '1' } },
  );
  const forward = (signal: NodeJS.Signals): void => void child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolveExit) =>
    child.on('exit', (code, signal) => resolveExit(code ?? (signal ? 1 : 0))),
  );
}

function usage(message: string): never {
  process.stderr.write(
    `${message}\nusage: npm run bench -- [--quick] [--only ${BENCHMARKS.map((b) => b.name).join(',')}] [--out FILE]\n`,
  );
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { quick?: boolean; only?: string; out?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        quick: { type: 'boolean' },
        only: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    usage(err instanceof Error ? err.message : String(err));
  }
  if (values.help) usage('Runs the benchmarks and writes the report.');
  const quick = Boolean(values.quick);
  const names = values.only
    ?.split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of names ?? []) if (!BENCHMARKS.some((b) => b.name === n)) usage(`unknown benchmark "${n}"`);
  const selected = names ? BENCHMARKS.filter((b) => names.includes(b.name)) : BENCHMARKS;
  const complete = !quick && selected.length === BENCHMARKS.length;
  const out = resolve(
    values.out ??
      (complete ? 'docs/benchmarks.md' : quick ? '.tmp/benchmarks-quick.md' : '.tmp/benchmarks-partial.md'),
  );

  const started = new Date();
  const loadBefore = loadavg();
  const log = logger(started.getTime());
  const results: { benchmark: Benchmark; result: BenchResult; seconds: number }[] = [];
  for (const benchmark of selected) {
    log(`${benchmark.name}: start`);
    const t0 = Date.now();
    const result = await runInOwnProcess(benchmark, quick, started.getTime());
    if (result.status === 'not-run') log(`${benchmark.name}: ${result.reason}`);
    const seconds = (Date.now() - t0) / 1000;
    results.push({ benchmark, result, seconds });
    log(`${benchmark.name}: done in ${seconds.toFixed(0)} s`);
  }

  const report = renderReport({
    machine: describeMachine(),
    started,
    totalSeconds: (Date.now() - started.getTime()) / 1000,
    loadBefore,
    loadAfter: loadavg(),
    quick,
    complete,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`,
    results,
  });
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, report);
  log(`report written to ${out.startsWith(ROOT) ? out.slice(ROOT.length + 1) : out}`);
  process.stdout.write(report);
}

/** `[bench +12s] message` on stderr, timed from `startedMs`. */
function logger(startedMs: number): (message: string) => void {
  return (m) => void process.stderr.write(`[bench +${((Date.now() - startedMs) / 1000).toFixed(0)}s] ${m}\n`);
}

/** Runs one benchmark in a fresh node (same flags as this one) and reads back its result. */
async function runInOwnProcess(
  benchmark: Benchmark,
  quick: boolean,
  startedMs: number,
): Promise<BenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'igop-bench-'));
  const resultPath = join(dir, 'result.json');
  try {
    const child = spawn(process.execPath, [...process.execArgv, new URL(import.meta.url).pathname], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        [ONE_ENV]: benchmark.name,
        [RESULT_ENV]: resultPath,
        [STARTED_ENV]: String(startedMs),
        [QUICK_ENV]: quick ? '1' : '',
      },
    });
    const code = await new Promise<number>((resolveExit) =>
      child.on('exit', (c, signal) => resolveExit(c ?? (signal ? 1 : 0))),
    );
    try {
      return JSON.parse(readFileSync(resultPath, 'utf8')) as BenchResult;
    } catch {
      return {
        status: 'not-run',
        reason: `failed: its process exited with code ${code} and no result`,
        method: [],
      };
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** In a benchmark's own process: run it, write its result (a failure is a result too). */
async function runOne(name: string): Promise<void> {
  const benchmark = BENCHMARKS.find((b) => b.name === name);
  const log = logger(Number(process.env[STARTED_ENV] ?? Date.now()));
  let result: BenchResult;
  try {
    if (!benchmark) throw new Error(`unknown benchmark "${name}"`);
    result = await benchmark.run({ quick: process.env[QUICK_ENV] === '1', log });
  } catch (err) {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`${name}: FAILED: ${message}`);
    result = { status: 'not-run', reason: `failed: ${message.split('\n')[0]}`, method: [] };
  }
  writeFileSync(process.env[RESULT_ENV] as string, JSON.stringify(result));
  // The result is written: a handle a benchmark left open must not keep the suite waiting.
  process.exit(0);
}

if (process.env[REEXEC_ENV] === undefined) process.exitCode = await reexec();
else if (process.env[ONE_ENV] !== undefined) await runOne(process.env[ONE_ENV]);
else await main();
