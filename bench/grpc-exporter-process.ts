import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GadgetRow } from '../src/rows/gadget-row.js';
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
import { CLI_ENTRY, benchNodeArgs, ensureDistBuilt, productionNodeOptions } from './shipped-cli.js';

/**
 * The footprint in the DaemonSet's mode: the CLI as shipped runs `run profile_cpu --remote-address
 * unix://…` against the IG daemon test double (test/support/ig-daemon-double.ts: the real gRPC
 * protocol over a unix socket, profile_cpu's GadgetInfo and binary rows laid out as IG lays them
 * out), next to a bare process that receives the same events with our IG client. Each process has
 * its own double; both doubles send the same GadgetDataArray payloads, encoded once before the run
 * (so the benchmark process only writes bytes while it is timed), one per fetch interval on a
 * drift-free schedule, then end the stream as a gadget that reached its timeout does.
 */

const DAEMON_DOUBLE_MODULE = '../test/support/ig-daemon-double.js';

export interface GrpcFootprintOptions {
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
  /** CPU seconds the process used after the window (draining what it had received, exiting). */
  readonly cpuAfterWindowSeconds: number;
};

/** What runs against a double: the argv (after `node`) and NODE_OPTIONS of the sampled process. */
interface GrpcChild {
  readonly label: string;
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
  daemon: DaemonDouble.IgDaemonDouble,
  options: GrpcFootprintOptions,
  child: GrpcChild,
  rows: number,
): Promise<GrpcProcessRun | string> {
  const reportPath = join(options.workDir, `${child.label}-report.json`);
  const proc = spawn(process.execPath, [...benchNodeArgs(), ...child.args(daemon.unixAddress, reportPath)], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: child.nodeOptions, IGOP_ADDRESS: daemon.unixAddress },
  });
  const stderr = collectStderr(proc);
  const sampler = startProcessSampler(proc.pid as number);
  const t0 = Date.now();
  const failed = async (what: string): Promise<string> => {
    proc.kill('SIGKILL');
    await waitExit(proc, 5_000);
    return `${child.label}: ${what}: ${stderr.text().slice(-STDERR_TAIL_BYTES)}`;
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
  const atWindowEnd = samples.filter((s) => s.atMs <= toMs).at(-1)?.cpuSeconds ?? 0;
  const atExit = samples.at(-1)?.cpuSeconds ?? atWindowEnd;
  const report = existsSync(reportPath)
    ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ExportReportJson)
    : undefined;
  return {
    feed: { lines: options.count, rows, bytes: 0, maxLagMs: 0 },
    samples,
    feedWindow: { fromMs, toMs },
    exitCode,
    ...(report ? { report } : {}),
    stderrTail: stderr.text().slice(-STDERR_TAIL_BYTES),
    launcher: child.launcher,
    eventsSent: daemon.runs[0]?.sent ?? 0,
    cpuAfterWindowSeconds: atExit - atWindowEnd,
  };
}

/** Runs ours and the bare receiver at the same time, each against its own double. */
export async function runGrpcFootprint(
  options: GrpcFootprintOptions,
): Promise<{ ours: GrpcProcessRun | string; bare: GrpcProcessRun | string } | string> {
  let double: typeof DaemonDouble;
  try {
    double = (await import(DAEMON_DOUBLE_MODULE)) as typeof DaemonDouble;
  } catch (err) {
    return `test/support/ig-daemon-double.ts not loadable (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
  const script: DaemonDouble.DoubleStep[] = [];
  const doubles = [
    await double.startIgDaemonDouble({ script: () => script, endAfterScript: true }),
    await double.startIgDaemonDouble({ script: () => script, endAfterScript: true }),
  ] as const;
  try {
    // Encoded once, before anything is timed; the row objects are dropped as soon as they are laid out.
    let rows = 0;
    for (let i = 0; i < options.count; i++) {
      const fetch = parseLosslessJson(
        options.lines[i % options.lines.length] as string,
      ) as unknown as GadgetRow[];
      rows += fetch.length;
      script.push({ atMs: (i + 1) * options.intervalMs }, { encoded: doubles[0].encode(fetch) });
    }
    script.push({ atMs: (options.count + 1) * options.intervalMs }); // the last fetch covers one interval

    const buildNote = await ensureDistBuilt();
    const nodeOptions = productionNodeOptions();
    writeFileSync(join(options.workDir, `${options.label}.yaml`), options.configYaml);
    const clientModule = new URL('../dist/gadget-bridge/grpc/ig-grpc-client.js', import.meta.url).pathname;
    const [ours, bare] = await Promise.all([
      runAgainstDouble(
        doubles[0],
        options,
        {
          label: options.label,
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
        },
        rows,
      ),
      runAgainstDouble(
        doubles[1],
        options,
        {
          label: `${options.label}-bare`,
          args: () => [
            '--input-type=module',
            '-e',
            BARE_GRPC_RECEIVER_SCRIPT.replace('process.env.IGOP_CLIENT_MODULE', JSON.stringify(clientModule)),
          ],
          nodeOptions: '',
          launcher: 'node -e (our IG gRPC client, events received and discarded undecoded)',
        },
        rows,
      ),
    ]);
    return { ours: typeof ours === 'string' ? ours : { ...ours, ...(buildNote ? { buildNote } : {}) }, bare };
  } finally {
    await Promise.all(doubles.map((d) => d.close()));
  }
}
