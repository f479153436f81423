import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './bench-harness.js';
import { fmt, fmtInt, fmtMiB, verdict } from './bench-harness.js';
import type { Capture } from './capture-fixture.js';
import { batchOfFetch, createCorePipeline, loadCapture, regroupLines } from './capture-fixture.js';
import { parseJsonDeferringExactness } from '../src/gadget-bridge/json/deferred-exact-json.js';
import type { FieldRecord } from '../src/rows/gadget-row.js';
import { gadgetRows } from '../src/rows/gadget-row.js';
import type { ExportReportJson, ProcessRun } from './exporter-process.js';
import { benchExporterConfig, counterTotal, runExporterProcess } from './exporter-process.js';
import type { OtlpSinkServer, SinkStats } from './otlp-sink-server.js';
import { startOtlpSinkServer } from './otlp-sink-server.js';

/**
 * Issue 3: the backend is down for 2 minutes while IG produces 5,000 rows/s. Three exporter
 * processes (the real CLI over OTLP/HTTP + gzip, default retry and batching) are fed the same
 * paced input, each with its own loopback receiver:
 *  - `healthy`: the receiver never goes down; its peak RSS is the fixed baseline;
 *  - `memory`: memory queue bounded at MEMORY_QUEUE_BYTES; the receiver is down for the outage;
 *  - `persistent`: persistent queue in a temp directory; the receiver is down for the outage.
 * `healthy` and `memory` run side by side for the same time (the exporter's RSS keeps growing for
 * minutes, so only a baseline on the same time axis is comparable); `persistent` runs after them.
 * One exporter at 5,000 rows/s needs about half a core: three at once fall behind on 2 cores.
 * Checks: the memory run's RSS stays within baseline + queue bound, and its drops are exactly
 * what was generated minus what arrived; the persistent run delivers every generated sample.
 */

const ROWS_PER_SECOND = 5_000;
/** IG's 1 s fetch: one line of 5,000 rows per second. */
const FETCH_INTERVAL_MS = 1_000;
/**
 * Bound of the memory queue (`queue.max_size`): well under what 2 minutes of outage queue at this
 * rate (about 0.6 MiB per 5 s flush, ~14 MiB in all), so dropping the oldest is exercised.
 */
const MEMORY_QUEUE_BYTES = 4 * 1024 * 1024;
/** Persistent queue bound: large enough that the outage fits (nothing may be dropped). */
const PERSISTENT_QUEUE_BYTES = 1024 * 1024 * 1024;
/** Phases (s): healthy lead-in, outage, recovery with the feed still running. */
const PHASES = { before: 10, down: 120, after: 30 } as const;
const QUICK_PHASES = { before: 5, down: 10, after: 15 } as const;
/** Generous: the final drain after end of input must not be what decides the result. */
const SHUTDOWN_TIMEOUT = '120s';

type Scenario = 'healthy' | 'memory' | 'persistent';

interface ScenarioResult {
  readonly run: ProcessRun;
  readonly sink: SinkStats;
}

function generated(report: ExportReportJson | undefined): number {
  return report ? counterTotal(report, 'samples_generated') : NaN;
}

function droppedSamples(report: ExportReportJson | undefined): { total: number; byReason: string } {
  const bench = report?.exporters.bench;
  if (!bench) return { total: NaN, byReason: 'no report' };
  const entries = Object.entries(bench.dropped);
  return {
    total: entries.reduce((a, [, d]) => a + d.samples, 0),
    byReason: entries.length
      ? entries
          .map(([r, d]) => `${r}: ${fmtInt(d.requests)} requests / ${fmtInt(d.samples)} samples`)
          .join('; ')
      : 'none',
  };
}

/**
 * Heap held by one flush's request model next to its encoded bytes (5 s at 5,000 rows/s), measured
 * in this process with forced collections; undefined without --expose-gc (run-benchmarks.ts sets it).
 */
function modelFootprint(capture: Capture): { modelBytes: number; encodedBytes: number } | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  let pipeline: ReturnType<typeof createCorePipeline> | undefined = createCorePipeline();
  const fetches = Math.min(capture.lines.length, (ROWS_PER_SECOND * 5) / capture.shape.rowsPerFetch);
  for (let i = 0; i < fetches; i++) {
    pipeline.add(
      batchOfFetch(gadgetRows(parseJsonDeferringExactness(capture.lines[i] as string) as FieldRecord[]), i),
    );
  }
  let flushed = pipeline.flush();
  pipeline = undefined; // only the flush result stays reachable
  if (!flushed) return undefined;
  const encodedBytes = flushed.pieces.reduce((a, p) => a + p.bytes.length, 0);
  gc();
  const withModel = process.memoryUsage().heapUsed;
  flushed = undefined;
  gc();
  const without = process.memoryUsage().heapUsed;
  return { modelBytes: withModel - without, encodedBytes };
}

function peakRss(run: ProcessRun, phase?: string): number {
  const s = run.samples.filter((x) => phase === undefined || x.phase === phase);
  return s.length ? Math.max(...s.map((x) => x.rssBytes)) : NaN;
}

/** Least-squares slope of y over x (units of y per unit of x); NaN with fewer than 2 distinct x. */
function slopeOf(points: readonly { x: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (const p of points) {
    sxy += (p.x - mx) * (p.y - my);
    sxx += (p.x - mx) ** 2;
  }
  return sxx > 0 ? sxy / sxx : NaN;
}

/** The part of the feed a fixed baseline must be flat over: from the end of its first quarter on. */
const DRIFT_WINDOW_START = 0.25;

interface Drift {
  /** Peak RSS in the second and in the last quarter of the feed (informative: peaks swing with GC timing). */
  readonly earlyPeak: number;
  readonly latePeak: number;
  /** Least-squares trend of every 1 s RSS sample over the drift window, bytes per minute. */
  readonly rssPerMinute: number;
  /** That trend times the window's length: how much the baseline grew over it. */
  readonly rssGrowth: number;
  /** The same trend of V8's live heap after each full collection (`--trace-gc`); NaN without it. */
  readonly livePerMinute: number;
  readonly liveFirst: number;
  readonly liveLast: number;
  readonly majorGcs: number;
  readonly windowMs: number;
}

/**
 * Whether the healthy process's memory is a fixed baseline. A peak-to-peak comparison of two
 * windows swings by ±10 MiB with where full collections land; the least-squares trend over every
 * sample of the last three quarters measures growth, and the live heap after each full collection
 * tells a leak (it rises) from allocator and GC-timing noise (it stays flat).
 */
function driftOf(run: ProcessRun): Drift {
  const { fromMs, toMs } = run.feedWindow;
  const span = toMs - fromMs;
  const start = fromMs + DRIFT_WINDOW_START * span;
  const peakIn = (a: number, b: number): number => {
    const s = run.samples.filter((x) => x.atMs >= fromMs + a * span && x.atMs <= fromMs + b * span);
    return s.length ? Math.max(...s.map((x) => x.rssBytes)) : NaN;
  };
  const rss = run.samples.filter((x) => x.atMs >= start && x.atMs <= toMs);
  const live = (run.majorGcs ?? []).filter((g) => g.atMs >= start && g.atMs <= toMs);
  const rssSlope = slopeOf(rss.map((x) => ({ x: x.atMs, y: x.rssBytes })));
  const windowMs = toMs - start;
  return {
    earlyPeak: peakIn(0.25, 0.5),
    latePeak: peakIn(0.75, 1),
    rssPerMinute: rssSlope * 60_000,
    rssGrowth: rssSlope * windowMs,
    livePerMinute: slopeOf(live.map((g) => ({ x: g.atMs, y: g.liveBytes }))) * 60_000,
    liveFirst: live[0]?.liveBytes ?? NaN,
    liveLast: live[live.length - 1]?.liveBytes ?? NaN,
    majorGcs: live.length,
    windowMs,
  };
}

function rssTimeline(runs: Record<Scenario, ScenarioResult>, stepS: number): string[] {
  const rows: string[] = [
    '| t (s) since ready | phase | healthy RSS | memory-queue RSS | persistent-queue RSS |',
    '| --- | --- | --- | --- | --- |',
  ];
  const at = (r: ProcessRun, t: number): string => {
    const s = r.samples.find((x) => x.atMs >= t * 1000);
    return s ? fmtMiB(s.rssBytes) : '—';
  };
  const end = Math.max(
    ...Object.values(runs).map((r) => (r.run.samples[r.run.samples.length - 1]?.atMs ?? 0) / 1000),
  );
  for (let t = 0; t <= end; t += stepS) {
    const phase = runs.memory.run.samples.find((x) => x.atMs >= t * 1000)?.phase ?? '';
    rows.push(
      `| ${t} | ${phase} | ${at(runs.healthy.run, t)} | ${at(runs.memory.run, t)} | ${at(runs.persistent.run, t)} |`,
    );
  }
  return rows;
}

async function run(options: BenchOptions): Promise<BenchResult> {
  const phases = options.quick ? QUICK_PHASES : PHASES;
  const total = phases.before + phases.down + phases.after;
  const capture = loadCapture(options.quick);
  const lines = regroupLines(capture, ROWS_PER_SECOND);
  if (lines.length === 0) throw new Error('capture smaller than one fetch line');
  const workDir = mkdtempSync(join(tmpdir(), 'igop-bench-outage-'));
  const sinks: Partial<Record<Scenario, OtlpSinkServer>> = {};
  try {
    const scenarios: Scenario[] = ['healthy', 'memory', 'persistent'];
    for (const s of scenarios) sinks[s] = await startOtlpSinkServer();
    options.log(
      `outage: 3 exporters at ${fmtInt(ROWS_PER_SECOND)} rows/s for ${total} s (backend down from ${phases.before} s to ${phases.before + phases.down} s)`,
    );
    const queueOf: Record<Scenario, string> = {
      healthy: `{max_size: ${MEMORY_QUEUE_BYTES}}`,
      memory: `{max_size: ${MEMORY_QUEUE_BYTES}}`,
      persistent: `{directory: ${JSON.stringify(join(workDir, 'queue'))}, max_size: ${PERSISTENT_QUEUE_BYTES}}`,
    };
    const runScenario = async (
      scenario: Scenario,
      count: number,
    ): Promise<readonly [Scenario, ScenarioResult]> => {
      const sink = sinks[scenario] as OtlpSinkServer;
      const result = await runExporterProcess({
        workDir,
        label: scenario,
        configYaml: benchExporterConfig(sink.url, queueOf[scenario]),
        exporterName: 'bench',
        shutdownTimeout: SHUTDOWN_TIMEOUT,
        lines,
        rowsPerLine: ROWS_PER_SECOND,
        intervalMs: FETCH_INTERVAL_MS,
        count,
        traceGc: true,
        onTick: async (i, sampler) => {
          sampler.setPhase(i < phases.before ? 'before' : i < phases.before + phases.down ? 'down' : 'after');
          if (scenario === 'healthy') return;
          if (i === phases.before) await sink.setDown(true);
          if (i === phases.before + phases.down) await sink.setDown(false);
        },
      });
      options.log(`outage: ${scenario} exited ${String(result.exitCode)}`);
      return [scenario, { run: result, sink: sink.stats() }] as const;
    };
    const runs = await Promise.all([runScenario('healthy', total), runScenario('memory', total)]);
    runs.push(await runScenario('persistent', total));
    const by = Object.fromEntries(runs) as Record<Scenario, ScenarioResult>;
    return analyse(by, phases, options, modelFootprint(capture));
  } finally {
    for (const s of Object.values(sinks)) await s?.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function analyse(
  by: Record<Scenario, ScenarioResult>,
  phases: { before: number; down: number; after: number },
  options: BenchOptions,
  model: { modelBytes: number; encodedBytes: number } | undefined,
): BenchResult {
  const baselinePeak = peakRss(by.healthy.run);
  const memoryPeak = peakRss(by.memory.run);
  const persistentPeak = peakRss(by.persistent.run);
  const bound = baselinePeak + MEMORY_QUEUE_BYTES;

  const mem = by.memory;
  const memReport = mem.run.report;
  const memGenerated = generated(memReport);
  const memDelivered = memReport?.exporters.bench?.delivered.samples ?? NaN;
  const memDropped = droppedSamples(memReport);
  const memPeak = memReport?.exporters.bench?.queuePeak;
  const memExact = memGenerated === memDelivered + memDropped.total && mem.sink.samples === memDelivered;

  const per = by.persistent;
  const perReport = per.run.report;
  const perGenerated = generated(perReport);
  const perDropped = droppedSamples(perReport);
  const perComplete =
    per.sink.samples === perGenerated &&
    perDropped.total === 0 &&
    (perReport?.exporters.bench?.pendingOnDisk.requests ?? 1) === 0;

  const rowsIn = (r: ScenarioResult): string =>
    `${fmtInt(r.run.feed.rows)} fed / ${r.run.report ? fmtInt(counterTotal(r.run.report, 'rows_read')) : '?'} read`;
  const drift = driftOf(by.healthy.run);
  const baselineFixed = drift.rssGrowth <= MEMORY_QUEUE_BYTES;
  const windowS = fmtInt(drift.windowMs / 1000);
  const measurements: Measurement[] = [
    {
      what: `the healthy baseline is fixed (RSS trend: least-squares fit of every 1 s sample over the last ${windowS} s of the feed)`,
      baseline: `${fmtMiB(MEMORY_QUEUE_BYTES)} (the queue bound)`,
      ours: `${fmtMiB(drift.rssGrowth)} over ${windowS} s (${fmt(drift.rssPerMinute / (1024 * 1024))} MiB/min)`,
      ratio: `${fmt(drift.rssGrowth / MEMORY_QUEUE_BYTES)}× of the bound`,
      target: `grows ≤ the queue bound (${fmtMiB(MEMORY_QUEUE_BYTES)}) over the window`,
      verdict: verdict(baselineFixed),
    },
    {
      what: `the healthy process's live heap (V8, after each full collection; \`--trace-gc\`), trend over the same ${windowS} s`,
      baseline: `${fmtMiB(drift.liveFirst)} (first full collection in the window)`,
      ours: `${fmtMiB(drift.liveLast)} (last; ${fmtInt(drift.majorGcs)} collections)`,
      ratio: `${fmt(drift.livePerMinute / (1024 * 1024))} MiB/min`,
      target: 'none set (informative: a leak shows here as a steady rise)',
      verdict: 'n/a',
    },
    {
      what: 'memory queue: peak RSS vs healthy peak RSS + queue bound',
      baseline: `${fmtMiB(baselinePeak)} healthy + ${fmtMiB(MEMORY_QUEUE_BYTES)} bound = ${fmtMiB(bound)}`,
      ours: `${fmtMiB(memoryPeak)} peak`,
      ratio: `${fmt(memoryPeak / bound)}× of the bound`,
      target: '≤ 1× (baseline + queue bound)',
      verdict: verdict(memoryPeak <= bound),
    },
    {
      what: "memory queue: the queue's own high-water mark (waiting + in flight, from its delivery report)",
      baseline: `${fmtMiB(MEMORY_QUEUE_BYTES)} bound (waiting batches; the one a worker retries is in flight on top)`,
      ours: memPeak ? `${fmtMiB(memPeak.bytes)} in ${fmtInt(memPeak.requests)} requests` : 'not reported',
      ratio: memPeak ? `${fmt(memPeak.bytes / MEMORY_QUEUE_BYTES)}× of the bound` : 'n/a',
      target: 'none set (informative: separates a bounded queue from RSS noise)',
      verdict: 'n/a',
    },
    {
      what: 'memory queue: drops exactly counted (generated = delivered + dropped; received = delivered)',
      baseline: `${fmtInt(memGenerated)} samples generated`,
      ours: `${fmtInt(memDelivered)} delivered (receiver counted ${fmtInt(mem.sink.samples)}) + ${fmtInt(memDropped.total)} dropped${memDropped.total === 0 ? ' (the bound was not reached: drops not exercised)' : ''}`,
      ratio: `${fmt((memDelivered + memDropped.total) / memGenerated)}×`,
      target: 'exactly 1×',
      verdict: verdict(memExact),
    },
    {
      what: 'persistent queue: everything delivered after the backend returns',
      baseline: `${fmtInt(perGenerated)} samples generated`,
      ours: `${fmtInt(per.sink.samples)} received, ${fmtInt(perDropped.total)} dropped`,
      ratio: `${fmt(per.sink.samples / perGenerated)}×`,
      target: 'exactly 1×, nothing dropped or left on disk',
      verdict: verdict(perComplete),
    },
  ];
  options.log(
    `outage: peak RSS healthy ${fmtMiB(baselinePeak)}, memory ${fmtMiB(memoryPeak)}, persistent ${fmtMiB(persistentPeak)}`,
  );
  const lagNote = Object.entries(by)
    .map(([s, r]) => `${s} ${fmtInt(r.run.feed.maxLagMs)} ms`)
    .join(', ');
  return {
    status: 'ran',
    measurements,
    method: [
      `Three exporter processes run the CLI as shipped (\`${by.healthy.run.launcher}\`, compiled dist/; ${by.healthy.run.buildNote ?? ''}) with \`export --config … --otel-profiles-exporter bench\`: OTLP/HTTP protobuf + gzip to a loopback receiver (\`bench/otlp-sink-server.ts\`, counts samples by walking the protobuf), default batching (5 s ± 20 %) and retry (5 s initial, ×1.5, 30 s max, give up after 5 min).`,
      `Each is fed the same \`-o json\` lines from the capture on stdin, one line of ${fmtInt(ROWS_PER_SECOND)} rows per ${FETCH_INTERVAL_MS} ms (${fmtInt(ROWS_PER_SECOND)} rows/s), for ${phases.before + phases.down + phases.after} s. \`healthy\` and \`memory\` run at the same time (same load, same time axis); \`persistent\` runs after them (one exporter at this rate needs about half a core, and three at once fall behind on 2 cores). The receivers of the \`memory\` and \`persistent\` runs are down (listening socket closed: connection refused) from ${phases.before} s to ${phases.before + phases.down} s${options.quick ? ' (quick mode: a short outage)' : ' (2 minutes)'}; the \`healthy\` run's receiver never is, and its peak RSS is the fixed baseline.`,
      `\`memory\`: \`queue: {max_size: ${MEMORY_QUEUE_BYTES}}\` (${fmtMiB(MEMORY_QUEUE_BYTES)}). \`persistent\`: \`queue: {directory: <tmp>, max_size: 1GiB}\`. At the end the input closes; the exporter flushes, drains (shutdown timeout ${SHUTDOWN_TIMEOUT}) and writes \`--report-json\`, whose counters (\`samples_generated\`) and delivery report (delivered, dropped by reason, pending on disk) are compared with what the receiver counted.`,
      'RSS from `/proc/<pid>/status` every second (the exporter process itself; no helper processes run during the measurement). Each exporter also runs with `--trace-gc` (one stdout line per collection), from which the benchmark reads the live heap after every full collection.',
    ],
    details: [
      ...(baselineFixed
        ? []
        : [
            `- **The healthy run's RSS is not a fixed baseline**: its trend is ${fmt(drift.rssPerMinute / (1024 * 1024))} MiB/min, more than the queue bound over the window, so "peak RSS ≤ baseline + bound" compares against a drifting baseline and says little about the queue itself. See the RSS timeline below.`,
          ]),
      `- Healthy RSS peaks (informative; a peak moves by ±10 MiB with where full collections land): ${fmtMiB(drift.earlyPeak)} in the second quarter of the feed, ${fmtMiB(drift.latePeak)} in the last.`,
      `- Rows: healthy ${rowsIn(by.healthy)}; memory ${rowsIn(by.memory)}; persistent ${rowsIn(by.persistent)}. Worst feed lateness (pipe full, i.e. the exporter not keeping up): ${lagNote}.`,
      `- Memory queue drops by reason: ${memDropped.byReason}. Persistent queue drops: ${perDropped.byReason}.`,
      `- Peak RSS while the backend was down: memory ${fmtMiB(peakRss(by.memory.run, 'down'))}, persistent ${fmtMiB(peakRss(by.persistent.run, 'down'))}; healthy overall ${fmtMiB(baselinePeak)}, persistent overall ${fmtMiB(persistentPeak)}.`,
      `- Exit codes: healthy ${String(by.healthy.run.exitCode)}, memory ${String(by.memory.run.exitCode)} (3 = finished with drops), persistent ${String(by.persistent.run.exitCode)}. Receiver requests: healthy ${fmtInt(by.healthy.sink.requests)}, memory ${fmtInt(by.memory.sink.requests)}, persistent ${fmtInt(by.persistent.sink.requests)}; malformed bodies ${by.healthy.sink.malformed + by.memory.sink.malformed + by.persistent.sink.malformed}.`,
      model
        ? `- One 5 s flush at this rate is ${fmtMiB(model.encodedBytes)} encoded, and its request model plus bytes hold ${fmtMiB(model.modelBytes)} of heap (${fmt(model.modelBytes / model.encodedBytes)}× the encoded size; measured in the benchmark process with forced collections). Queued batches hold their model only weakly (\`batchFromEncoded\`), so a backlog costs its encoded bytes; were the models kept, ${fmtMiB(MEMORY_QUEUE_BYTES)} of queued bytes would pin about ${fmtMiB((MEMORY_QUEUE_BYTES * model.modelBytes) / model.encodedBytes)}.`
        : '- (Model footprint not measured: run through run-benchmarks.ts, which enables --expose-gc.)',
      '',
      'RSS over time:',
      '',
      ...rssTimeline(by, options.quick ? 5 : 10),
    ],
  };
}

export const outageBenchmark: Benchmark = {
  name: 'outage',
  title: 'Backend outage',
  issue: 'issue 3',
  run,
};
