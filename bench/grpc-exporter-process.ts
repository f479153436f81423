import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GadgetRow } from '../src/gadget-bridge/gadget-row.js';
import { parseLosslessJson } from '../src/gadget-bridge/json/lossless-json.js';
import type * as DaemonDouble from '../test/support/ig-daemon-double.js';
import type { ExportReportJson, ProcessRun } from './exporter-process.js';
import {
  collectStderr,
  EXIT_GRACE_MS,
  READY_TIMEOUT_MS,
  STDERR_TAIL_BYTES,
  waitExit,
} from './exporter-process.js';
import { startProcessSampler } from './process-sampler.js';
import { CLI_ENTRY, ensureDistBuilt, productionNodeOptions } from './shipped-cli.js';

/**
 * Runs the CLI as shipped in the DaemonSet's mode: `run profile_cpu --remote-address unix://…`
 * against the IG daemon test double (test/support/ig-daemon-double.ts: the real gRPC protocol
 * over a unix socket, profile_cpu's GadgetInfo and binary rows laid out as IG lays them out),
 * which sends one GadgetDataArray of `rowsPerLine` capture rows per fetch interval on a drift-free
 * schedule and then ends the stream as a gadget that reached its timeout does. The double runs in
 * the benchmark process; only the exporter process is sampled.
 */

const DAEMON_DOUBLE_MODULE = '../test/support/ig-daemon-double.js';

export interface GrpcExporterRunOptions {
  /** `-o json` lines of the capture: each becomes one fetch (round-robin over the pool). */
  readonly lines: readonly string[];
  readonly rowsPerLine: number;
  readonly intervalMs: number;
  /** Fetches to send. */
  readonly count: number;
  readonly workDir: string;
  readonly label: string;
  readonly configYaml: string;
  readonly exporterName: string;
}

export type GrpcProcessRun = ProcessRun & {
  /** Data events the double sent. */
  readonly eventsSent: number;
};

/** What runs against the double: the argv (after `node`) and NODE_OPTIONS of the sampled process. */
interface GrpcChild {
  readonly args: (address: string, reportPath: string) => string[];
  readonly nodeOptions: string;
  readonly launcher: string;
}

/**
 * The gRPC baseline: a `node` that runs the gadget with our IG client (dist/) and discards every
 * event undecoded: the cost of merely receiving IG's events over gRPC in a Node process.
 */
const BARE_GRPC_RECEIVER_SCRIPT = [
  'import(process.env.IGOP_CLIENT_MODULE).then(async ({ createIgGrpcClient }) => {',
  '  const client = createIgGrpcClient({ address: process.env.IGOP_ADDRESS });',
  "  const stream = client.runGadget({ imageName: 'profile_cpu', decode: () => false });",
  '  for await (const _ of stream);',
  '  client.close();',
  '});',
].join('\n');

async function runAgainstDouble(
  options: GrpcExporterRunOptions,
  child: GrpcChild,
): Promise<GrpcProcessRun | string> {
  let double: typeof DaemonDouble;
  try {
    double = (await import(DAEMON_DOUBLE_MODULE)) as typeof DaemonDouble;
  } catch (err) {
    return `test/support/ig-daemon-double.ts not loadable (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  const fetches: GadgetRow[][] = [];
  for (let i = 0; i < options.count; i++) {
    const line = options.lines[i % options.lines.length] as string;
    fetches.push(parseLosslessJson(line) as unknown as GadgetRow[]);
  }
  const script: DaemonDouble.DoubleStep[] = [];
  fetches.forEach((rows, i) => script.push({ atMs: (i + 1) * options.intervalMs }, { rows }));
  script.push({ atMs: (fetches.length + 1) * options.intervalMs }); // the last fetch covers one interval
  const daemon = await double.startIgDaemonDouble({ script: () => script, endAfterScript: true });

  const configPath = join(options.workDir, `${options.label}.yaml`);
  const reportPath = join(options.workDir, `${options.label}-report.json`);
  writeFileSync(configPath, options.configYaml);
  try {
    const proc = spawn(process.execPath, child.args(daemon.unixAddress, reportPath), {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: child.nodeOptions, IGOP_ADDRESS: daemon.unixAddress },
    });
    const stderr = collectStderr(proc);
    const sampler = startProcessSampler(proc.pid as number);
    const t0 = Date.now();
    const failed = async (what: string): Promise<string> => {
      proc.kill('SIGKILL');
      await waitExit(proc, 5_000);
      return `${options.label}: ${what}: ${stderr.text().slice(-STDERR_TAIL_BYTES)}`;
    };
    try {
      await daemon.waitFor(() => daemon.runs.length > 0, READY_TIMEOUT_MS, 'the RunGadget request');
      await daemon.waitFor(
        () => (daemon.runs[0]?.sent ?? 0) > 0,
        2 * options.intervalMs + 5_000,
        'the first fetch',
      );
    } catch {
      return failed('the gadget did not run');
    }
    const fromMs = Date.now() - t0;
    try {
      await daemon.waitFor(
        () => daemon.runs[0]?.ended === true || proc.exitCode !== null,
        (options.count + 30) * options.intervalMs,
        'the end of the script',
      );
    } catch {
      return failed('the script did not end');
    }
    const toMs = Date.now() - t0;
    sampler.sampleNow();
    sampler.setPhase('drain');
    const exitCode = await waitExit(proc, EXIT_GRACE_MS);
    const samples = sampler.stop();
    const report = existsSync(reportPath)
      ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ExportReportJson)
      : undefined;
    const rows = fetches.reduce((a, f) => a + f.length, 0);
    return {
      feed: { lines: fetches.length, rows, bytes: 0, maxLagMs: 0 },
      samples,
      feedWindow: { fromMs, toMs },
      exitCode,
      ...(report ? { report } : {}),
      stderrTail: stderr.text().slice(-STDERR_TAIL_BYTES),
      launcher: child.launcher,
      eventsSent: daemon.runs[0]?.sent ?? 0,
    };
  } finally {
    await daemon.close();
  }
}

/** The CLI as shipped: `run profile_cpu` over gRPC, exporting with `configYaml`. */
export async function runGrpcExporterProcess(
  options: GrpcExporterRunOptions,
): Promise<GrpcProcessRun | string> {
  const buildNote = await ensureDistBuilt();
  const nodeOptions = productionNodeOptions();
  const run = await runAgainstDouble(options, {
    args: (address, reportPath) => [
      CLI_ENTRY,
      'run',
      'profile_cpu',
      '--remote-address',
      address,
      '--map-fetch-interval',
      `${options.intervalMs}ms`,
      '--config',
      join(options.workDir, `${options.label}.yaml`),
      '--otel-profiles-exporter',
      options.exporterName,
      '--shutdown-timeout',
      '30s',
      '--report-json',
      reportPath,
    ],
    nodeOptions,
    launcher: `NODE_OPTIONS="${nodeOptions}" node bin/ig-otel-profiles.js run profile_cpu --remote-address unix://…`,
  });
  return typeof run === 'string' ? run : { ...run, ...(buildNote ? { buildNote } : {}) };
}

/** The gRPC baseline: a bare `node` receiving the same events with our IG client, undecoded. */
export async function runBareGrpcReceiver(options: GrpcExporterRunOptions): Promise<GrpcProcessRun | string> {
  await ensureDistBuilt();
  const clientModule = new URL('../dist/gadget-bridge/grpc/ig-grpc-client.js', import.meta.url).pathname;
  return runAgainstDouble(
    { ...options, label: `${options.label}-bare` },
    {
      args: () => [
        '--input-type=module',
        '-e',
        BARE_GRPC_RECEIVER_SCRIPT.replace('process.env.IGOP_CLIENT_MODULE', JSON.stringify(clientModule)),
      ],
      nodeOptions: '',
      launcher: 'node -e (our IG gRPC client, events received and discarded undecoded)',
    },
  );
}
