import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Benchmark, BenchOptions, BenchResult, Measurement } from './bench-harness.js';
import { fmt, fmtInt, fmtMiB, fmtRatio, verdict } from './bench-harness.js';
import { loadCapture, regroupLines } from './capture-fixture.js';
import {
  benchExporterConfig,
  counterTotal,
  runBareReader,
  runExporterProcess,
  runParsingReader,
  usageOverFeed,
} from './exporter-process.js';
import type { GrpcProcessRun } from './grpc-exporter-process.js';
import { runGrpcFootprint } from './grpc-exporter-process.js';
import { startOtlpSinkServer } from './otlp-sink-server.js';

/**
 * Issue 3: the exporter's footprint at a realistic node load — 3,000 rows/s arriving in IG's 1 s
 * fetches for 60 s, exported over OTLP/HTTP to a healthy loopback receiver. CPU time of the whole
 * exporter process (utime + stime from /proc) as % of one core, average and peak RSS. Baseline:
 * a bare `node` process that reads the same stdin at the same pace and discards it, run at the
 * same time. Informative: what JSON.parse of the same lines costs on its own (a third process
 * that only splits and parses, and a timing in this process), the floor of any JSON-line reader.
 * Then the same load in the DaemonSet's mode: `run profile_cpu` over IG's gRPC API against the
 * daemon double, next to a bare process that receives the same events with our IG client.
 */

const ROWS_PER_SECOND = 3_000;
const FETCH_INTERVAL_MS = 1_000;
const DURATION_S = 60;
const QUICK_DURATION_S = 10;
/** Issue 3 targets. */
const TARGET_CPU_PCT = 1;
const TARGET_RSS_BYTES = 80 * 1024 * 1024;
/** Timed JSON.parse passes over the line pool (the first warms the parser up and is not counted). */
const PARSE_TIMING_PASSES = 4;

/** Milliseconds JSON.parse takes per line, over the pool, measured in this process. */
function jsonParseMsPerLine(lines: readonly string[]): number {
  let sink = 0;
  let elapsed = 0;
  for (let pass = 0; pass < PARSE_TIMING_PASSES; pass++) {
    const t0 = performance.now();
    for (const line of lines) sink += (JSON.parse(line) as unknown[]).length;
    if (pass > 0) elapsed += performance.now() - t0;
  }
  if (sink < 0) throw new Error('unreachable'); // keeps the parses observable
  return elapsed / ((PARSE_TIMING_PASSES - 1) * lines.length);
}

async function run(options: BenchOptions): Promise<BenchResult> {
  const capture = loadCapture(options.quick);
  const lines = regroupLines(capture, ROWS_PER_SECOND);
  const duration = options.quick ? QUICK_DURATION_S : DURATION_S;
  const workDir = mkdtempSync(join(tmpdir(), 'igop-bench-footprint-'));
  const sink = await startOtlpSinkServer();
  try {
    const parseMsPerLine = jsonParseMsPerLine(lines);
    options.log(
      `footprint: exporter, bare reader and JSON.parse reader at ${fmtInt(ROWS_PER_SECOND)} rows/s for ${duration} s`,
    );
    const feed = { lines, rowsPerLine: ROWS_PER_SECOND, intervalMs: FETCH_INTERVAL_MS, count: duration };
    const [ours, bare, parsing] = await Promise.all([
      runExporterProcess({
        ...feed,
        workDir,
        label: 'footprint',
        configYaml: benchExporterConfig(sink.url),
        exporterName: 'bench',
        shutdownTimeout: '30s',
      }),
      runBareReader(feed),
      runParsingReader(feed),
    ]);
    options.log(
      `footprint: run over gRPC and a bare gRPC receiver at ${fmtInt(ROWS_PER_SECOND)} rows/s for ${duration} s`,
    );
    const grpcFeed = {
      lines,
      rowsPerLine: ROWS_PER_SECOND,
      intervalMs: FETCH_INTERVAL_MS,
      count: duration,
      workDir,
      label: 'footprint-grpc',
      configYaml: benchExporterConfig(sink.url),
      exporterName: 'bench',
    };
    const samplesBeforeGrpc = sink.stats().samples;
    const grpc = await runGrpcFootprint(grpcFeed);
    const grpcOurs = typeof grpc === 'string' ? grpc : grpc.ours;
    const grpcBare = typeof grpc === 'string' ? grpc : grpc.bare;
    const u = usageOverFeed(ours);
    const b = usageOverFeed(bare);
    const p = usageOverFeed(parsing);
    const linesPerSecond = 1000 / FETCH_INTERVAL_MS;
    const parseAlonePct = (100 * parseMsPerLine * linesPerSecond) / 1000;
    const delivered = ours.report?.exporters.bench?.delivered.samples ?? NaN;
    const generatedSamples = ours.report ? counterTotal(ours.report, 'samples_generated') : NaN;
    const bytesPerSecond = lines.reduce((a, l) => a + l.length + 1, 0) / lines.length; // one line per second
    return {
      status: 'ran',
      measurements: [
        {
          what: 'CPU, % of one core, average over the feed',
          baseline: `${fmt(b.cpuAvgPct)} % (bare node reading the same stdin)`,
          ours: `${fmt(u.cpuAvgPct)} %`,
          ratio: fmtRatio(u.cpuAvgPct / b.cpuAvgPct),
          target: `≤ ${TARGET_CPU_PCT} % of one core`,
          verdict: verdict(u.cpuAvgPct <= TARGET_CPU_PCT),
        },
        {
          what: 'RSS, peak over the feed',
          baseline: `${fmtMiB(b.rssPeak)} (bare node)`,
          ours: `${fmtMiB(u.rssPeak)} (average ${fmtMiB(u.rssAvg)})`,
          ratio: fmtRatio(u.rssPeak / b.rssPeak),
          target: '≤ 80 MB',
          verdict: verdict(u.rssPeak <= TARGET_RSS_BYTES),
        },
        ...grpcMeasurements(grpcOurs, grpcBare),
      ],
      method: [
        `The CLI as shipped runs \`export\`: \`${ours.launcher}\` on \`dist/\` compiled by \`tsc -p tsconfig.build.json\` (what \`npm install\` builds; ${ours.buildNote ?? ''}), with the NODE_OPTIONS of the Dockerfile and the deploy/k8s manifests. It runs with an OTLP/HTTP exporter (protobuf + gzip, defaults otherwise: 5 s ± 20 % flushes, memory queue) to a healthy loopback receiver. Its stdin gets one \`-o json\` line of ${fmtInt(ROWS_PER_SECOND)} capture rows per second (IG's 1 s fetches), ${fmt(bytesPerSecond / 1e6)} MB/s of JSON, for ${duration} s.`,
        `At the same time a bare \`node -e "process.stdin.on('data', () => {})"\` gets the same lines at the same pace: the cost of merely receiving the data in a Node process.`,
        'Also at the same time, informative: a `node -e` with the same NODE_OPTIONS that only splits the same stdin into lines and `JSON.parse`s each (no validation, no exact integers, nothing kept): the floor of any exporter that reads IG JSON; and `JSON.parse` of the same lines timed in the benchmark process before the run.',
        `Then, the DaemonSet's mode (deploy/k8s): the shipped CLI runs \`run profile_cpu --remote-address unix://…\` against the IG daemon test double (test/support/ig-daemon-double.ts: IG's gRPC protocol on a unix socket, profile_cpu's GadgetInfo, rows in IG's binary layout), which sends one GadgetDataArray of the same ${fmtInt(ROWS_PER_SECOND)} rows per second for ${duration} s and then ends the stream; same exporter config. Baseline, at the same time against its own double: a bare \`node\` that runs the gadget with our IG client (dist/) and discards the events undecoded: the cost of merely receiving IG's events over gRPC (grpc-js) in a Node process. The doubles run in the benchmark process; the window is first event to one interval after the last.`,
        'CPU = (utime + stime) from `/proc/<pid>/stat` over the feed window (first line to one interval after the last), as % of one core; the peak is the busiest 1 s sample (a flush). RSS from `/proc/<pid>/status` every second. Start-up is before the window and not counted.',
      ],
      details: [
        `- JSON.parse alone of the same lines: ${fmt(parseAlonePct)} % of a core (${fmt(parseMsPerLine)} ms per ${fmtInt(ROWS_PER_SECOND)}-row line, timed in-process); a process that only splits and JSON.parses them: ${fmt(p.cpuAvgPct)} % of a core, RSS peak ${fmtMiB(p.rssPeak)} (average ${fmtMiB(p.rssAvg)}). The ≤ ${TARGET_CPU_PCT} % CPU target is ${parseAlonePct > TARGET_CPU_PCT ? 'below what parsing the JSON alone costs' : 'above what parsing the JSON alone costs'}.`,
        `- CPU peak (1 s): ours ${fmt(u.cpuPeakPct)} %, bare ${fmt(b.cpuPeakPct)} %. RSS average: ours ${fmtMiB(u.rssAvg)}, bare ${fmtMiB(b.rssAvg)}.`,
        `- CPU over the second half of the window (code optimised, caches filled: what an exporter that has been running a while costs): ours ${fmt(u.cpuSecondHalfPct)} %, bare ${fmt(b.cpuSecondHalfPct)} %, split + JSON.parse only ${fmt(p.cpuSecondHalfPct)} %.`,
        `- ${fmtInt(ours.feed.rows)} rows fed (${ours.report ? fmtInt(counterTotal(ours.report, 'rows_read')) : '?'} read), ${fmtInt(generatedSamples)} samples generated, ${fmtInt(delivered)} delivered, receiver counted ${fmtInt(samplesBeforeGrpc)}; exit code ${String(ours.exitCode)}. Worst feed lateness ${fmtInt(ours.feed.maxLagMs)} ms.`,
        `- CPU per row: ours ${fmt((u.cpuAvgPct / 100 / ROWS_PER_SECOND) * 1e6)} µs, bare ${fmt((b.cpuAvgPct / 100 / ROWS_PER_SECOND) * 1e6)} µs.`,
        ...grpcDetails(grpcOurs, grpcBare, sink.stats().samples - samplesBeforeGrpc),
      ],
    };
  } finally {
    await sink.close();
    rmSync(workDir, { recursive: true, force: true });
  }
}

function notRunReason(ours: GrpcProcessRun | string, bare: GrpcProcessRun | string): string {
  if (typeof ours === 'string') return ours;
  return typeof bare === 'string' ? bare : '';
}

function grpcMeasurements(ours: GrpcProcessRun | string, bare: GrpcProcessRun | string): Measurement[] {
  if (typeof ours === 'string' || typeof bare === 'string') {
    const why = notRunReason(ours, bare);
    return [
      {
        what: "CPU and RSS, `run` over IG's gRPC API (the DaemonSet's mode)",
        baseline: 'bare gRPC receiver',
        ours: `not run: ${why.split('\n')[0] ?? ''}`,
        ratio: 'n/a',
        target: `≤ ${TARGET_CPU_PCT} % of one core, ≤ 80 MB`,
        verdict: 'n/a',
      },
    ];
  }
  const u = usageOverFeed(ours);
  const b = usageOverFeed(bare);
  return [
    {
      what: "CPU, % of one core, `run` over IG's gRPC API (the DaemonSet's mode)",
      baseline: `${fmt(b.cpuAvgPct)} % (bare node receiving the same events over gRPC)`,
      ours: `${fmt(u.cpuAvgPct)} %`,
      ratio: fmtRatio(u.cpuAvgPct / b.cpuAvgPct),
      target: `≤ ${TARGET_CPU_PCT} % of one core`,
      verdict: verdict(u.cpuAvgPct <= TARGET_CPU_PCT),
    },
    {
      what: "RSS, peak, `run` over IG's gRPC API",
      baseline: `${fmtMiB(b.rssPeak)} (bare gRPC receiver)`,
      ours: `${fmtMiB(u.rssPeak)} (average ${fmtMiB(u.rssAvg)})`,
      ratio: fmtRatio(u.rssPeak / b.rssPeak),
      target: '≤ 80 MB',
      verdict: verdict(u.rssPeak <= TARGET_RSS_BYTES),
    },
  ];
}

function grpcDetails(
  ours: GrpcProcessRun | string,
  bare: GrpcProcessRun | string,
  received: number,
): string[] {
  if (typeof ours === 'string' || typeof bare === 'string')
    return [`- gRPC mode not measured: ${notRunReason(ours, bare)}`];
  const u = usageOverFeed(ours);
  const b = usageOverFeed(bare);
  const delivered = ours.report?.exporters.bench?.delivered.samples ?? NaN;
  const generated = ours.report ? counterTotal(ours.report, 'samples_generated') : NaN;
  return [
    `- gRPC mode: ${fmtInt(ours.feed.rows)} rows in ${fmtInt(ours.eventsSent)} events sent (bare receiver: ${fmtInt(bare.eventsSent)}), ${fmtInt(generated)} samples generated, ${fmtInt(delivered)} delivered, receiver counted ${fmtInt(received)}; exit code ${String(ours.exitCode)}. CPU peak (1 s): ours ${fmt(u.cpuPeakPct)} %, bare receiver ${fmt(b.cpuPeakPct)} %; RSS average: ours ${fmtMiB(u.rssAvg)}, bare receiver ${fmtMiB(b.rssAvg)}. CPU per row: ours ${fmt((u.cpuAvgPct / 100 / ROWS_PER_SECOND) * 1e6)} µs, bare receiver ${fmt((b.cpuAvgPct / 100 / ROWS_PER_SECOND) * 1e6)} µs.`,
    `- gRPC mode, CPU over the second half of the window (code optimised, caches filled): ours ${fmt(u.cpuSecondHalfPct)} %, bare receiver ${fmt(b.cpuSecondHalfPct)} %.`,
    `- After the window (final flush, drain, exit): ours ${fmt(ours.cpuAfterWindowSeconds)} CPU s, bare receiver ${fmt(bare.cpuAfterWindowSeconds)} CPU s. Much more than one flush's worth would mean the process fell behind the feed and the window missed work.`,
  ];
}

export const footprintBenchmark: Benchmark = {
  name: 'footprint',
  title: 'Node-load footprint',
  issue: 'issue 3',
  run,
};
