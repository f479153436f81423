import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { formatSize, parseDurationMs, parseSizeBytes } from '../config/units.js';
import type { Logger } from '../observability/logger.js';
import { createLogger, parseLogLevel } from '../observability/logger.js';
import { parseListenAddress } from '../serve/listen-address.js';
import type { ServeApp, ServeOptions } from '../serve/serve-app.js';
import { startServe } from '../serve/serve-app.js';
import { MIN_MAX_BYTES } from '../store/store-retention.js';
import { UsageError } from './cli-options.js';
import type { CommandContext } from './command-context.js';
import { EXIT_FATAL } from './export-session.js';
import { errorText } from '../util/error-text.js';

export const DEFAULT_DATA_DIR = 'ig-otel-profiles-data';
export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:4317';
export const DEFAULT_HTTP_ADDRESS = '127.0.0.1:4318';
/**
 * The OTLP recommendation for a receiver's request cap (and our exporter's send floor): far above what the
 * exporter's splitter sends, low enough that a few concurrent requests cannot exhaust memory.
 */
export const DEFAULT_MAX_REQUEST_SIZE = '64MiB';

/** The flags `serve` shares with `demo` (which runs a serve inside). */
export const SERVE_OPTIONS = {
  data: { type: 'string' },
  grpc: { type: 'string' },
  http: { type: 'string' },
  retention: { type: 'string' },
  'max-size': { type: 'string' },
  'max-request-size': { type: 'string' },
  'log-level': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export const SERVE_FLAGS_HELP = `      --data DIR                 where the store keeps its database (default ./${DEFAULT_DATA_DIR}); one serve per DIR
      --grpc HOST:PORT           OTLP/gRPC listener (default ${DEFAULT_GRPC_ADDRESS})
      --http HOST:PORT           OTLP/HTTP, query API, live events and the page (default ${DEFAULT_HTTP_ADDRESS})
      --retention DURATION       drop samples older than this while running (e.g. 24h, 168h; default 0 = keep)
      --max-size SIZE            drop the oldest samples when the database grows past SIZE (e.g. 2GiB; at least 16MiB;
                                 default 0 = no cap)
      --max-request-size SIZE    refuse larger OTLP requests, compressed or decompressed, with 413 /
                                 RESOURCE_EXHAUSTED (default ${DEFAULT_MAX_REQUEST_SIZE})
      --log-level L              error | warn | info | debug (default info)
  -h, --help                     this help`;

export const SERVE_HELP = `Usage: ig-otel-profiles serve [--data DIR] [--grpc HOST:PORT] [--http HOST:PORT] [options]

Receives OTLP profiles (gRPC and HTTP, protobuf or JSON, gzip), keeps them in an embedded DuckDB store
in DIR and shows them in the browser: flame graph, timeline, filters by node, namespace, workload, pod,
container and process, top functions, diff, trace id, live. A request answered 200 is on disk.
GET /api/pprof?<filters> is a gzipped pprof for \`go tool pprof URL\`.

${SERVE_FLAGS_HELP}

Loopback only by default: a non-loopback HOST is reachable by anyone who can connect (no authentication).
SIGINT/SIGTERM: stop accepting, answer the requests in flight once stored, close the store, exit 0.

Examples:
  ig-otel-profiles serve
  ig-otel-profiles serve --data /var/lib/profiles --retention 24h --max-size 2GiB
  ig run profile_cpu -o json | ig-otel-profiles export --endpoint http://127.0.0.1:4317 --protocol grpc --insecure
  go tool pprof -top 'http://127.0.0.1:4318/api/pprof?k8s.namespace.name=shop'`;

type Values = Record<string, string | boolean | string[] | undefined>;

export function parseServeArgs(
  argv: readonly string[],
  extra: Record<string, { type: 'string' | 'boolean' }> = {},
): Values {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...SERVE_OPTIONS, ...extra },
      allowPositionals: false,
      strict: true,
    });
    return parsed.values;
  } catch (err) {
    throw new UsageError(errorText(err));
  }
}

export function serveLogger(ctx: CommandContext, values: Values): Logger {
  const flag = values['log-level'] as string | undefined;
  const level = flag !== undefined ? parseLogLevel(flag) : 'info';
  if (level === undefined) throw new UsageError(`--log-level ${flag}: expected error, warn, info or debug`);
  return createLogger({ level, write: ctx.stderr });
}

/** Serve options from the flags (usage errors name the flag); `defaults` lets demo change the addresses. */
export function serveOptionsFrom(
  values: Values,
  logger: Logger,
  defaults: { grpc?: string; http?: string } = {},
): ServeOptions {
  const text = (flag: string): string | undefined => values[flag] as string | undefined;
  const address = (flag: 'grpc' | 'http', fallback: string) => {
    try {
      return parseListenAddress(text(flag) ?? fallback, `--${flag}`);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  };
  const duration = (flag: string): number => {
    const v = text(flag);
    if (v === undefined) return 0;
    const ms = parseDurationMs(v);
    if (ms === undefined)
      throw new UsageError(`--${flag} ${v}: expected a duration like 24h, 90m or 0 (keep)`);
    return ms;
  };
  const size = (flag: string, fallback: string): number => {
    const v = text(flag) ?? fallback;
    const bytes = parseSizeBytes(v);
    if (bytes === undefined) throw new UsageError(`--${flag} ${v}: expected a size like 2GiB, 512MiB or 0`);
    return bytes;
  };
  const maxRequestBytes = size('max-request-size', DEFAULT_MAX_REQUEST_SIZE);
  if (maxRequestBytes < 1024) {
    throw new UsageError(
      `--max-request-size ${formatSize(maxRequestBytes)}: at least 1KiB (OTLP requests are larger)`,
    );
  }
  const maxBytes = size('max-size', '0');
  // Below this, deleting samples frees no space (the store's dictionary and log alone fill it).
  if (maxBytes !== 0 && maxBytes < MIN_MAX_BYTES) {
    throw new UsageError(
      `--max-size ${formatSize(maxBytes)}: at least ${formatSize(MIN_MAX_BYTES)}, or 0 for no cap`,
    );
  }
  return {
    dataDir: resolve(text('data') ?? DEFAULT_DATA_DIR),
    grpc: address('grpc', defaults.grpc ?? DEFAULT_GRPC_ADDRESS),
    http: address('http', defaults.http ?? DEFAULT_HTTP_ADDRESS),
    retentionMs: duration('retention'),
    maxBytes,
    maxRequestBytes,
    logger,
  };
}

/** What to tell the user once serve listens. */
export function describeServe(app: ServeApp): string {
  return [
    `Open ${app.httpUrl}/ in a browser.`,
    `  OTLP/gRPC  ${app.grpcAddress}        (export --endpoint http://${app.grpcAddress} --protocol grpc --insecure)`,
    `  OTLP/HTTP  ${app.httpUrl}/v1development/profiles`,
    `  pprof      go tool pprof -top '${app.httpUrl}/api/pprof'`,
    '',
  ].join('\n');
}

/**
 * Resolves on the first SIGINT/SIGTERM (when signals are ours) or when `stop` fires. A second signal
 * during the shutdown exits at once (the user insists).
 */
export function waitForStop(ctx: CommandContext, logger: Logger, stop?: Promise<void>): Promise<void> {
  return new Promise<void>((resolveStop) => {
    if (stop) void stop.then(resolveStop);
    if (!ctx.handleSignals) return;
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        logger.warn(`${signal} again: exiting without finishing the requests in flight`);
        process.exit(EXIT_FATAL);
      }
      signalled = true;
      logger.info(`${signal}: stopping (finishing the requests in flight, closing the store)`);
      resolveStop();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

export async function serveCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const values = parseServeArgs(argv);
  if (values.help) {
    ctx.stdout(SERVE_HELP + '\n');
    return 0;
  }
  const logger = serveLogger(ctx, values);
  const options = serveOptionsFrom(values, logger);
  const app = await startServe(options);
  ctx.stdout(`ig-otel-profiles serve: storing in ${options.dataDir}\n${describeServe(app)}`);
  await waitForStop(ctx, logger);
  await app.close();
  logger.info('stopped; the store is closed');
  return 0;
}
