/**
 * A real serve for tests: a fresh data directory, loopback port 0 for both listeners, a logger that keeps
 * its lines (tests assert on warnings), and small helpers to query it.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/observability/logger.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ServeApp, ServeOptions } from '../../src/serve/serve-app.js';
import { startServe } from '../../src/serve/serve-app.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import type { CliResult } from '../support/cli-harness.js';
import { runCli, spawnCli } from '../support/cli-harness.js';
import { buildSinkRequest, T0 } from '../support/sinks-fixtures.js';
import { BUNDLED_CAPTURE_PATH, exampleEmissions } from '../support/profiles-fixtures.js';
import { getInteger } from '../../src/rows/gadget-row.js';

/** A child under tsx on a busy 2-core machine takes seconds to start. */
const SPAWN_TIMEOUT_MS = 60_000;

/** Sum of the capture's `samples` values: what every query over all of it must total. */
export const CAPTURE_TOTAL = exampleEmissions(BUNDLED_CAPTURE_PATH)
  .flat()
  .reduce((a, r) => a + getInteger(r, 'samples')!, 0n);

export interface TestServe {
  readonly app: ServeApp;
  readonly dataDir: string;
  readonly log: string[];
  /** Closes the serve (if still open) and removes the data directory. */
  cleanup(): Promise<void>;
}

export function testLogger(lines: string[]): Logger {
  return createLogger({ level: 'debug', write: (line) => void lines.push(line) });
}

export function newDataDir(): string {
  return mkdtempSync(join(tmpdir(), 'igop-serve-'));
}

export async function startTestServe(overrides: Partial<ServeOptions> = {}): Promise<TestServe> {
  const dataDir = overrides.dataDir ?? newDataDir();
  const log: string[] = [];
  const app = await startServe({
    dataDir,
    grpc: { host: '127.0.0.1', port: 0 },
    http: { host: '127.0.0.1', port: 0 },
    retentionMs: 0,
    maxBytes: 0,
    maxRequestBytes: 64 * 1024 * 1024,
    logger: testLogger(log),
    ...overrides,
  });
  return {
    app,
    dataDir,
    log,
    cleanup: async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export async function getJson(
  base: string,
  path: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(base + path);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

/** The root total of a flame graph over the whole store. */
export async function storedTotal(base: string, query = ''): Promise<bigint> {
  const { status, body } = await getJson(base, `/api/flamegraph${query}`);
  if (status !== 200) throw new Error(`flamegraph: ${status} ${JSON.stringify(body)}`);
  return BigInt(body.rootTotal as string);
}

/** Both listeners on any free loopback port. */
export const FREE_PORTS: readonly string[] = ['--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0'];

/** The real `export` command sending the bundled capture to a serve, with `extra` flags. */
export function exportCapture(
  app: ServeApp,
  protocol: 'grpc' | 'http/protobuf' | 'http/json',
  extra: readonly string[] = [],
): Promise<CliResult> {
  const endpoint = protocol === 'grpc' ? `http://${app.grpcAddress}` : app.httpUrl;
  return runCli([
    'export',
    '--input',
    BUNDLED_CAPTURE_PATH,
    '--endpoint',
    endpoint,
    '--protocol',
    protocol,
    '--insecure',
    ...extra,
  ]);
}

/** A CLI child whose stdout and stderr are collected; `waitFor` polls until a probe gives a value. */
export interface WatchedChild {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  readonly exited: Promise<number | string>;
  waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs?: number): Promise<T>;
}

export function spawnWatched(argv: readonly string[]): WatchedChild {
  const child = spawnCli(argv);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  return {
    child,
    output: () => out,
    exited,
    waitFor: async (probe, timeoutMs = SPAWN_TIMEOUT_MS) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await probe();
        if (value !== undefined) return value;
        if (child.exitCode !== null) throw new Error(`${argv[0]} exited (${child.exitCode}):\n${out}`);
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms; output:\n${out}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
  };
}

export interface ServeChild extends WatchedChild {
  readonly httpUrl: string;
  readonly grpcAddress: string;
}

/** `ig-otel-profiles serve` as a real process on free loopback ports; resolves once it prints its URL. */
export async function spawnServe(dataDir: string, extra: readonly string[] = []): Promise<ServeChild> {
  const watched = spawnWatched(['serve', '--data', dataDir, ...FREE_PORTS, ...extra]);
  try {
    const [httpUrl, grpcAddress] = await watched.waitFor(() => {
      const http = /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(watched.output())?.[1];
      const grpc = /OTLP\/gRPC\s+(127\.0\.0\.1:\d+)/.exec(watched.output())?.[1];
      return http && grpc ? [http, grpc] : undefined;
    });
    return { ...watched, httpUrl, grpcAddress };
  } catch (err) {
    watched.child.kill('SIGKILL');
    throw err;
  }
}

/**
 * The sinks' reference request made conforming (the sinks accept shapes the receiver's validator rejects):
 * every CPU sample carries timestamps only, with the same totals per stack and thread (14 = 3 + 5 + 5 + 1),
 * 8 of them in [T0, T0+1s) and 6 after.
 */
export function storableSinkRequest(): ExportProfilesServiceRequest {
  const request = buildSinkRequest();
  const cpu = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
  const sec = 1_000_000_000n;
  const times = (start: bigint, n: number): bigint[] =>
    Array.from({ length: n }, (_, i) => start + BigInt(i));
  cpu.samples[1]!.values = [];
  cpu.samples[1]!.timestampsUnixNano = times(T0 + sec, 5);
  cpu.samples[2]!.values = [];
  cpu.samples[2]!.timestampsUnixNano = times(T0 + 10n, 5);
  return request;
}
