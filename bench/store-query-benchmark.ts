import { DuckDBInstance } from '@duckdb/node-api';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../src/observability/logger.js';
import { DEFAULT_MAX_NODES as API_DEFAULT_MAX_NODES } from '../src/serve/query-api.js';
import type { DuckDBProfileStore } from '../src/store/duckdb-profile-store.js';
import { DEFAULT_MAX_NODES } from '../src/store/flame-tree.js';
import { openProfileStore } from '../src/store/open-profile-store.js';
import type { Selection } from '../src/store/profile-store.js';
import { DATABASE_FILE } from '../src/store/store-schema.js';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './bench-harness.js';
import { collectGarbage, fmt, fmtInt, fmtRatio, median, verdict } from './bench-harness.js';

/**
 * Issue 14: the flame-graph query of the store over 100k, 1M and 10M stored samples (unfiltered and
 * filtered to one service), next to the bare `GROUP BY stack` of the same rows in the same database (the
 * floor: the scan any flame graph needs), and the store's bytes per stored sample next to the OTLP bytes
 * (protobuf, gzip) per sample of the requests it came from.
 *
 * The store is filled with the benchmark capture through the real ingest path (the exporter's requests:
 * its stacks, series and Zipf-like stack popularity); the larger sizes repeat those rows shifted in time,
 * in time order, with DuckDB itself (ingesting 10M samples request by request would take minutes).
 */

/** Issue 14: the flame graph takes at most 2× the bare GROUP BY of the same rows. */
const TARGET_RATIO = 2;
const SIZES = [100_000, 1_000_000, 10_000_000] as const;
const QUICK_SIZES = [100_000, 1_000_000] as const;
/**
 * Timed runs per query (median reported). The bare scan alone moves between 13 and 32 ms from run to run at
 * 1M samples on this 2-core machine (measured: 40 runs of the same query); five runs left the median, and
 * so the ratio, at the mercy of two slow ones.
 */
const RUNS = 11;
/**
 * Untimed runs of each query first, so the timed ones see the tree code as a running server does: 40 runs
 * of the 1M-sample, 100k-node query in one process took 37–100 ms each for the first 12 (the passes still
 * waiting for their optimised compile, which competes with the queries for the 2 cores) and 20–33 ms from
 * then on, while the bare scan stayed at 10–24 ms throughout. With one untimed run the median moved between
 * 27 and 45 ms from run to run of the same code.
 */
const WARMUP_RUNS = 12;
const QUICK_RUNS = 2;
/** Node budgets timed: the API's default and what the page asks for (the store's default). */
const BUDGETS: readonly [string, number][] = [
  [`API default ${fmtInt(API_DEFAULT_MAX_NODES)} nodes`, API_DEFAULT_MAX_NODES],
  [`page ${fmtInt(DEFAULT_MAX_NODES)} nodes`, DEFAULT_MAX_NODES],
];

interface Timings {
  readonly floorMs: number;
  readonly oursMs: number;
  readonly stacks: number;
  readonly nodes: number;
}

interface Filled {
  readonly requests: number;
  readonly rows: number;
  readonly gzipBytes: number;
  readonly ingestMs: number;
  readonly captureRows: number;
}

/** Fills the store in `dir` from the capture in a child process (see store-query-fill.ts for why). */
function fill(dir: string, quick: boolean): Filled {
  const script = new URL('./store-query-fill.ts', import.meta.url).pathname;
  const run = spawnSync(process.execPath, [...process.execArgv, script, dir, ...(quick ? ['quick'] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (run.status !== 0) throw new Error(`store-query-fill.ts exited with ${run.status ?? run.signal}`);
  return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Filled;
}

/** Rewrites the samples of the store in `dir` to exactly `rows` rows: the base rows repeated later in time. */
async function resize(dir: string, rows: number, baseRows: number, spanNs: bigint): Promise<void> {
  const db = await DuckDBInstance.create(join(dir, DATABASE_FILE));
  const c = await db.connect();
  await c.run('CREATE TEMP TABLE base AS SELECT * FROM samples');
  await c.run('DELETE FROM samples');
  await c.run(
    `INSERT INTO samples SELECT time + k * ${spanNs}, value, node, series, attrs, trace_id, span_id
     FROM range(${Math.ceil(rows / baseRows)}) r(k), base ORDER BY k, time LIMIT ${rows}`,
  );
  await c.run('DROP TABLE base');
  await c.run('CHECKPOINT');
  c.closeSync();
  db.closeSync();
}

async function timeQueries(
  store: DuckDBProfileStore,
  sel: Selection,
  maxNodes: number,
  runs: number,
  warmups: number,
): Promise<Timings> {
  const floor: number[] = [];
  const ours: number[] = [];
  let stacks = 0;
  let nodes = 0;
  // Warm-up, then interleaved runs so both sides meet the same machine state.
  for (let i = 0; i < warmups; i++) {
    await store.groupByStack(sel);
    await store.flameGraph(sel, { maxNodes });
  }
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    let t = process.hrtime.bigint();
    stacks = await store.groupByStack(sel);
    floor.push(Number(process.hrtime.bigint() - t) / 1e6);
    collectGarbage();
    t = process.hrtime.bigint();
    nodes = (await store.flameGraph(sel, { maxNodes })).name.length;
    ours.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { floorMs: median(floor), oursMs: median(ours), stacks, nodes };
}

async function run(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? QUICK_SIZES : SIZES;
  const runs = options.quick ? QUICK_RUNS : RUNS;
  const root = mkdtempSync(join(tmpdir(), 'igop-store-bench-'));
  try {
    options.log('store-query: ingesting the capture (child process)');
    const baseDir = join(root, 'base');
    const filled = fill(baseDir, options.quick);
    const { gzipBytes, ingestMs, rows: baseRows } = filled;
    const base = await openProfileStore(baseDir, { logger: silentLogger });
    const range = await base.timeRange();
    await base.close();
    const spanNs = range!.to - range!.from + 1_000_000_000n;
    options.log(`store-query: ${fmtInt(baseRows)} rows ingested in ${fmtInt(ingestMs)} ms`);

    const measurements: Measurement[] = [];
    const scaling: string[] = [
      '| stored samples | selection | maxNodes | floor (GROUP BY stack) | flame graph | ratio | stacks | nodes returned | bytes/sample |',
      '|---|---|---|---|---|---|---|---|---|',
    ];
    for (const rows of sizes) {
      const dir = join(root, `n${rows}`);
      const copy = await openProfileStore(dir, { logger: silentLogger });
      await copy.close();
      copyFileSync(join(baseDir, DATABASE_FILE), join(dir, DATABASE_FILE));
      options.log(`store-query: ${fmtInt(rows)} samples: filling`);
      await resize(dir, rows, baseRows, spanNs);
      const store = await openProfileStore(dir, { logger: silentLogger });
      try {
        const stats = await store.stats();
        const services = (await store.labelValues({ filters: new Map() }))['service.name'] ?? [];
        const busiest = [...services].sort((a, b) => Number(BigInt(b.samples) - BigInt(a.samples)))[0]!;
        const selections: [string, Selection][] = [
          ['unfiltered', { filters: new Map() }],
          [`service.name=${busiest.value}`, { filters: new Map([['service.name', [busiest.value]]]) }],
        ];
        for (const [label, sel] of selections)
          for (const [budget, maxNodes] of BUDGETS) {
            options.log(`store-query: ${fmtInt(rows)} samples, ${label}, ${budget}: timing`);
            const t = await timeQueries(store, sel, maxNodes, runs, options.quick ? 1 : WARMUP_RUNS);
            const ratio = t.oursMs / t.floorMs;
            scaling.push(
              `| ${fmtInt(rows)} | ${label} | ${fmtInt(maxNodes)} | ${fmt(t.floorMs)} ms | ${fmt(t.oursMs)} ms | ${fmtRatio(ratio)} | ${fmtInt(t.stacks)} | ${fmtInt(t.nodes)} | ${fmt(stats.usedBytes / rows)} |`,
            );
            if (rows >= 1_000_000)
              measurements.push({
                what: `flame graph, ${fmtInt(rows)} samples, ${label === 'unfiltered' ? 'unfiltered' : 'one service'}, ${budget}`,
                baseline: `${fmt(t.floorMs)} ms`,
                ours: `${fmt(t.oursMs)} ms`,
                ratio: fmtRatio(ratio),
                target: `≤ ${TARGET_RATIO}×`,
                verdict: verdict(ratio <= TARGET_RATIO),
              });
          }
        if (rows === sizes.at(-1))
          measurements.push({
            what: `bytes per stored sample (${fmtInt(rows)} samples) vs OTLP protobuf+gzip bytes per sample`,
            baseline: `${fmt(gzipBytes / baseRows)} B`,
            ours: `${fmt(stats.usedBytes / rows)} B`,
            ratio: fmtRatio(stats.usedBytes / rows / (gzipBytes / baseRows)),
            target: '(reported)',
            verdict: 'n/a',
          });
      } finally {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      }
    }
    return {
      status: 'ran',
      measurements,
      method: [
        `The benchmark capture (${fmtInt(filled.captureRows)} IG rows) goes through the exporter's pipeline into ${fmtInt(filled.requests)} OTLP requests, which the store ingests in a process of its own (${fmtInt(baseRows)} sample rows after merging equal (time, stack, series, attributes) rows, ${fmtInt(ingestMs)} ms). Each size repeats those rows later in time, in time order, written by DuckDB itself.`,
        `Floor: the selection's bare \`SELECT node, SUM(value) … GROUP BY node\` in the same database, read into JS. Flame graph: the same scan plus the per-query tree (values into leaf nodes, one downward pass over the prefix tree's ids, truncation to the node budget, pre-order output; timed with the API's default budget and the page's). Median of ${runs} interleaved runs after ${options.quick ? 1 : WARMUP_RUNS} untimed run(s) of each.`,
        `Bytes per stored sample: DuckDB blocks in use plus write-ahead log after a checkpoint, over stored rows; OTLP: the requests' protobuf, gzip-compressed as the exporter sends them, over the same rows.`,
      ],
      details: ['Scaling:', '', ...scaling],
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

export const storeQueryBenchmark: Benchmark = {
  name: 'store-query',
  title: 'Store: flame-graph query vs the bare GROUP BY stack',
  issue: '14',
  run,
};
