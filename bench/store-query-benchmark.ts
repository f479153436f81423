import { DuckDBInstance } from '@duckdb/node-api';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { silentLogger } from '../src/observability/logger.js';
import type { DuckDBProfileStore } from '../src/store/duckdb-profile-store.js';
import { openProfileStore } from '../src/store/open-profile-store.js';
import type { Selection } from '../src/store/profile-store.js';
import { DATABASE_FILE } from '../src/store/store-schema.js';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './bench-harness.js';
import { collectGarbage, fmt, fmtInt, fmtRatio, median, verdict } from './bench-harness.js';
import { batchOfFetch, createCorePipeline, FETCHES_PER_FLUSH, loadCapture } from './capture-fixture.js';
import { createLineParser, lineBytes } from './ingest-benchmark.js';

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
/** Timed runs per query (median reported), after one warm-up run of each. */
const RUNS = 5;
const QUICK_RUNS = 2;

interface Timings {
  readonly floorMs: number;
  readonly oursMs: number;
  readonly stacks: number;
  readonly nodes: number;
}

/** The capture as the exporter sends it, and the OTLP bytes (protobuf, gzip) of those requests. */
function exporterRequests(quick: boolean): { pieces: ReturnType<typeof flushPieces>; gzipBytes: number } {
  const pieces = flushPieces(quick);
  let gzipBytes = 0;
  for (const p of pieces) gzipBytes += gzipSync(p.bytes).length;
  return { pieces, gzipBytes };
}

function flushPieces(
  quick: boolean,
): { request: Parameters<DuckDBProfileStore['ingest']>[0]; bytes: Uint8Array }[] {
  const lines = lineBytes(loadCapture(quick).lines);
  const pipeline = createCorePipeline();
  const parseLine = createLineParser();
  const out: { request: Parameters<DuckDBProfileStore['ingest']>[0]; bytes: Uint8Array }[] = [];
  lines.forEach((line, i) => {
    pipeline.add(batchOfFetch(parseLine(line), i));
    if ((i + 1) % FETCHES_PER_FLUSH === 0 || i === lines.length - 1)
      out.push(...(pipeline.flush()?.pieces ?? []));
  });
  return out;
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

async function timeQueries(store: DuckDBProfileStore, sel: Selection, runs: number): Promise<Timings> {
  const floor: number[] = [];
  const ours: number[] = [];
  let stacks = 0;
  let nodes = 0;
  // Warm-up, then interleaved runs so both sides meet the same machine state.
  await store.groupByStack(sel);
  await store.flameGraph(sel);
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    let t = process.hrtime.bigint();
    stacks = await store.groupByStack(sel);
    floor.push(Number(process.hrtime.bigint() - t) / 1e6);
    collectGarbage();
    t = process.hrtime.bigint();
    nodes = (await store.flameGraph(sel)).name.length;
    ours.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  return { floorMs: median(floor), oursMs: median(ours), stacks, nodes };
}

async function run(options: BenchOptions): Promise<BenchResult> {
  const sizes = options.quick ? QUICK_SIZES : SIZES;
  const runs = options.quick ? QUICK_RUNS : RUNS;
  const root = mkdtempSync(join(tmpdir(), 'igop-store-bench-'));
  try {
    options.log('store-query: building the exporter requests from the capture');
    const { pieces, gzipBytes } = exporterRequests(options.quick);
    const baseDir = join(root, 'base');
    const base = await openProfileStore(baseDir, { logger: silentLogger });
    const t0 = Date.now();
    for (const p of pieces) await base.ingest(p.request);
    const ingestMs = Date.now() - t0;
    const baseStats = await base.stats();
    const range = await base.timeRange();
    await base.close();
    const baseRows = Number(baseStats.samples);
    const spanNs = range!.to - range!.from + 1_000_000_000n;
    options.log(`store-query: ${fmtInt(baseRows)} rows ingested in ${fmtInt(ingestMs)} ms`);

    const measurements: Measurement[] = [];
    const scaling: string[] = [
      '| stored samples | selection | floor (GROUP BY stack) | flame graph | ratio | stacks | nodes returned | bytes/sample |',
      '|---|---|---|---|---|---|---|---|',
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
        for (const [label, sel] of selections) {
          options.log(`store-query: ${fmtInt(rows)} samples, ${label}: timing`);
          const t = await timeQueries(store, sel, runs);
          const ratio = t.oursMs / t.floorMs;
          scaling.push(
            `| ${fmtInt(rows)} | ${label} | ${fmt(t.floorMs)} ms | ${fmt(t.oursMs)} ms | ${fmtRatio(ratio)} | ${fmtInt(t.stacks)} | ${fmtInt(t.nodes)} | ${fmt(stats.usedBytes / rows)} |`,
          );
          if (rows >= 1_000_000)
            measurements.push({
              what: `flame graph, ${fmtInt(rows)} samples, ${label === 'unfiltered' ? 'unfiltered' : 'one service'}`,
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
        `The benchmark capture (${fmtInt(loadCapture(options.quick).rows)} IG rows) goes through the exporter's pipeline into ${fmtInt(pieces.length)} OTLP requests, which the store ingests (${fmtInt(baseRows)} sample rows after merging equal (time, stack, series, attributes) rows, ${fmtInt(ingestMs)} ms). Each size repeats those rows later in time, in time order, written by DuckDB itself.`,
        `Floor: the selection's bare \`SELECT node, SUM(value) … GROUP BY node\` in the same database, read into JS. Flame graph: the same scan plus the per-query tree (values into leaf nodes, one downward pass over the prefix tree's ids, truncation to 100,000 nodes, pre-order output). Median of ${runs} interleaved runs after a warm-up.`,
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
