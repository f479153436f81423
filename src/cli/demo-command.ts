import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { countArrayEmissions } from '../gadget-bridge/json/replay-count.js';
import { DEFAULT_FETCH_INTERVAL_NANO } from '../gadget-bridge/profile-presets.js';
import type { Logger } from '../observability/logger.js';
import type { ListenAddress } from '../serve/listen-address.js';
import { formatListenAddress } from '../serve/listen-address.js';
import type { ServeApp } from '../serve/serve-app.js';
import { startServe } from '../serve/serve-app.js';
import { UsageError } from './cli-options.js';
import type { CommandContext } from './command-context.js';
import { openSession } from './command-context.js';
import { BUNDLED_CAPTURE, captureInput, captureSource, demoFiles } from './demo-files.js';
import { EXIT_OK } from './export-session.js';
import {
  describeServe,
  parseServeArgs,
  SERVE_FLAGS_HELP,
  serveLogger,
  serveOptionsFrom,
  waitForStop,
} from './serve-command.js';

export const DEMO_HELP = `Usage: ig-otel-profiles demo [--once] [--input FILE] [serve options]
       ig-otel-profiles demo --files [--out DIR] [--input FILE] [exporter options]

Starts serve (on its default addresses, or free ports when those are taken), replays the bundled
profile_cpu capture (or FILE) through the real exporter over OTLP/gRPC into it, and prints the URL
to open. Then keeps replaying it, shifted to the current time, one capture length after the other,
so the page's live mode has something to follow. Ctrl-C stops it cleanly (the data stays in --data).

      --once                 replay once, print what was stored and exit (scripts, tests)
      --input FILE           replay FILE instead of the bundled capture
      --files                no server: write the OTLP/JSON file and one pprof per process instead
                             (see ig-otel-profiles demo --files --help)
${SERVE_FLAGS_HELP}

Examples:
  npm start                                   (runs ig-otel-profiles demo)
  ig-otel-profiles demo
  ig-otel-profiles demo --once --data /tmp/demo-data --http 127.0.0.1:0 --grpc 127.0.0.1:0
  ig-otel-profiles demo --files --out /tmp/profiles`;

export async function demoCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  if (argv.includes('--files'))
    return demoFiles(
      argv.filter((a) => a !== '--files'),
      ctx,
    );
  const values = parseServeArgs(argv, { once: { type: 'boolean' }, input: { type: 'string' } });
  if (values.help) {
    ctx.stdout(DEMO_HELP + '\n');
    return 0;
  }
  const input = resolve((values.input as string | undefined) ?? BUNDLED_CAPTURE);
  if (!existsSync(input)) throw new UsageError(`--input ${input}: no such file`);
  const logger = serveLogger(ctx, values);
  const options = serveOptionsFrom(values, logger);
  // The defaults may be taken (a Collector on 4317, another serve): then any free port will do.
  const app = await startServe({
    ...options,
    grpc: values.grpc === undefined ? await freeOrAny(options.grpc, '--grpc', logger) : options.grpc,
    http: values.http === undefined ? await freeOrAny(options.http, '--http', logger) : options.http,
  });
  let exitCode = EXIT_OK;
  try {
    const replayMs = Number(
      (BigInt(await countArrayEmissions(input)) * DEFAULT_FETCH_INTERVAL_NANO) / 1_000_000n,
    );
    exitCode = await replay(ctx, app, input, logger);
    const stats = await app.store.stats();
    ctx.stdout(
      `\nReplayed ${input} through the exporter over OTLP/gRPC into serve: the store holds ${stats.samples} sample(s).\n` +
        describeServe(app),
    );
    if (!values.once && exitCode === EXIT_OK) {
      ctx.stdout(
        `Replaying it again every ${Math.round(replayMs / 1000)} s (live mode follows). Ctrl-C to stop.\n`,
      );
      exitCode = await replayUntilStopped(ctx, app, input, logger, Math.max(1_000, replayMs));
    }
  } finally {
    await app.close();
  }
  return exitCode;
}

/** Replays on a timer until a signal; a failed replay ends the demo with its exit code. */
async function replayUntilStopped(
  ctx: CommandContext,
  app: ServeApp,
  input: string,
  logger: Logger,
  intervalMs: number,
): Promise<number> {
  let stopped = false;
  let wake: () => void = () => undefined;
  const stop = waitForStop(ctx, logger).then(() => {
    stopped = true;
    wake();
  });
  while (!stopped) {
    await new Promise<void>((resolveSleep) => {
      wake = resolveSleep;
      setTimeout(resolveSleep, intervalMs).unref();
    });
    if (stopped) break;
    const code = await replay(ctx, app, input, logger);
    if (code !== EXIT_OK) return code;
  }
  await stop;
  return EXIT_OK;
}

/**
 * One pass of the capture through the real exporter session (json input → pipeline → OTLP/gRPC with
 * retries) into the serve. The session's report is printed only when something was not delivered.
 */
async function replay(ctx: CommandContext, app: ServeApp, input: string, logger: Logger): Promise<number> {
  let report = '';
  const code = await openSession(
    { ...ctx, handleSignals: false, stderr: (t) => void (report += t) },
    { endpoint: `http://${app.grpcAddress}`, protocol: 'grpc', insecure: true, 'log-level': 'warn' },
    captureInput(input),
    captureSource(input, false),
  );
  if (code !== EXIT_OK) {
    ctx.stderr(report);
    logger.error(`the replay did not deliver everything (exit status ${code}); see the report above`);
  }
  return code;
}

/** `address` when its port can be bound now, else the same host on any free port. */
export async function freeOrAny(
  address: ListenAddress,
  flag: string,
  logger: Logger,
): Promise<ListenAddress> {
  const free = await new Promise<boolean>((resolveProbe) => {
    const probe = createServer();
    probe.once('error', () => resolveProbe(false));
    probe.listen(address.port, address.host, () => probe.close(() => resolveProbe(true)));
  });
  if (free) return address;
  logger.info(
    `${formatListenAddress(address.host, address.port)} is taken: ${flag} uses a free port instead`,
  );
  return { host: address.host, port: 0 };
}
