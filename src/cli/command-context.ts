import { closeSync, existsSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { LoadedConfig } from '../config/load-config.js';
import { loadConfig } from '../config/load-config.js';
import { renderConfig } from '../config/print-config.js';
import type { ProfileSpec } from '../rows/profile-spec.js';
import type { RowSource } from '../rows/row-batch.js';
import { Counters } from '../observability/counters.js';
import { LossLedger } from '../observability/loss-ledger.js';
import type { Logger, LogFormat, LogLevel } from '../observability/logger.js';
import { createLogger, parseLogFormat, parseLogLevel } from '../observability/logger.js';
import type { InputKind, InputState } from '../observability/session-status.js';
import { SessionStatus } from '../observability/session-status.js';
import type { TelemetryServer } from '../observability/telemetry-server.js';
import { startTelemetryServer } from '../observability/telemetry-server.js';
import { withRowChecks } from '../profiles/aggregation/checked-row-source.js';
import type { PodMetadataInformer } from '../gadget-bridge/k8s/pod-metadata-informer.js';
import { pipelineFieldsRead } from '../profiles/aggregation/fields-read.js';
import { parseDurationMs, UsageError } from './cli-options.js';
import { runExportSession } from './export-session.js';
import { formatReport } from './format-report.js';
import { errorText } from '../util/error-text.js';

/** What a command needs from its surroundings; tests pass their own. */
export interface CommandContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly stdin?: NodeJS.ReadableStream;
  /** Whether SIGINT/SIGTERM are ours to handle (true for the real CLI). */
  readonly handleSignals: boolean;
  /** argv[1] basename: `kubectl-otel_profiles` turns on Kubernetes mode. */
  readonly invokedAs?: string;
}

/** Default bound of the final drain. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 30_000;

export interface SessionParts {
  readonly config: LoadedConfig;
  readonly logger: Logger;
  readonly counters: Counters;
  /** The input's connection state, for /readyz: a source that knows it sets it. */
  readonly status: SessionStatus;
  /** The row fields the session's pipelines read for rows of a spec (the gRPC sources decode only these). */
  readonly fieldsRead: (spec: ProfileSpec) => ReadonlySet<string>;
  /** `--k8s-pod-metadata`: the pod informer; its status() is the state a readiness check reports. */
  readonly podMetadata?: PodMetadataInformer;
}

type Values = Record<string, string | boolean | string[] | undefined>;

export function loadCommandConfig(
  ctx: CommandContext,
  values: Values,
  extraSet: readonly string[] = [],
): { config: LoadedConfig; logger: Logger } {
  const levelFlag = values['log-level'] as string | undefined;
  const level: LogLevel | undefined = levelFlag !== undefined ? parseLogLevel(levelFlag) : undefined;
  if (levelFlag !== undefined && level === undefined)
    throw new UsageError(`--log-level ${levelFlag}: expected error, warn, info or debug`);
  // run/attach call the request timeout --otlp-timeout (their --timeout is IG's): messages name what was typed.
  const timeoutFlag = values['otlp-timeout'] !== undefined ? '--otlp-timeout' : '--timeout';
  const timeout = (values['otlp-timeout'] ?? values.timeout) as string | undefined;
  const formatFlag = values['log-format'] as string | undefined;
  const format: LogFormat | undefined = formatFlag !== undefined ? parseLogFormat(formatFlag) : undefined;
  if (formatFlag !== undefined && format === undefined)
    throw new UsageError(`--log-format ${formatFlag}: expected text or json`);
  const bootLogger = createLogger({
    level: level ?? 'info',
    write: ctx.stderr,
    ...(format !== undefined ? { format } : {}),
  });
  const config = loadConfig({
    ...(values.config !== undefined ? { configFile: values.config as string } : {}),
    env: ctx.env,
    logger: bootLogger,
    flags: {
      ...(values['otel-profiles-exporter'] !== undefined
        ? { exporterSelection: values['otel-profiles-exporter'] as string }
        : {}),
      set: [...extraSet, ...((values.set as string[] | undefined) ?? [])],
      ...(values.endpoint !== undefined ? { endpoint: values.endpoint as string } : {}),
      ...(values.protocol !== undefined ? { protocol: values.protocol as string } : {}),
      ...(values.insecure !== undefined ? { insecure: Boolean(values.insecure) } : {}),
      ...(values.header !== undefined ? { headers: values.header as string[] } : {}),
      ...(values.compression !== undefined ? { compression: values.compression as string } : {}),
      ...(timeout !== undefined ? { timeout, timeoutFlag } : {}),
      ...(level !== undefined ? { logLevel: level } : {}),
      ...(values['k8s-pod-metadata'] !== undefined
        ? { k8sPodMetadata: Boolean(values['k8s-pod-metadata']) }
        : {}),
      ...(format !== undefined ? { logFormat: format } : {}),
      ...(values['telemetry-address'] !== undefined
        ? { telemetryAddress: values['telemetry-address'] as string }
        : {}),
    },
  });
  const logger = createLogger({
    level: level ?? config.logLevel,
    write: ctx.stderr,
    format: config.logFormat,
  });
  return { config, logger };
}

/** `--print-config`: the effective configuration as a config file (header values redacted); runs nothing. */
export function printConfig(ctx: CommandContext, values: Values, extraSet: readonly string[] = []): number {
  const { config } = loadCommandConfig(ctx, values, extraSet);
  ctx.stdout(renderConfig(config));
  return 0;
}

/**
 * Fails now, not after the run, when the report cannot be written: by trying, since permission
 * bits say nothing for root or on pseudo and read-only file systems. A file that was not there is
 * removed again; an existing one is opened for appending, so it is not truncated before the end.
 */
function checkReportPath(path: string): void {
  const fail = (why: string): never => {
    throw new UsageError(`--report-json ${path}: ${why}`);
  };
  const existed = existsSync(path);
  if (existed && statSync(path).isDirectory()) fail('is a directory: name a file in it');
  const directory = dirname(resolve(path));
  if (!existed && !existsSync(directory))
    fail(`no such directory ${directory}: create it or choose another path`);
  try {
    closeSync(openSync(path, 'a'));
    if (!existed) unlinkSync(path);
  } catch (err) {
    fail(`cannot be written (${errorText(err)}): choose a writable path`);
  }
}

/**
 * `--k8s-node-name`, else $NODE_NAME (the downward API's spec.nodeName in the manifests), else the
 * `--node` a `run --k8s` is limited to (its rows come from that node only).
 */
function podMetadataNode(values: Values, env: CommandContext['env']): { nodeName?: string } {
  const nodeName =
    (values['k8s-node-name'] as string | undefined) ??
    (env.NODE_NAME?.trim() || undefined) ??
    (values.node as string | undefined);
  return nodeName ? { nodeName } : {};
}

/** Everything a session needs, loaded and checked before anything connects or reads. */
export interface PreparedSession {
  readonly config: LoadedConfig;
  readonly logger: Logger;
  readonly shutdownTimeoutMs: number;
  /** `--strict`: the first malformed input or invalid row fails the run. */
  readonly strict: boolean;
  readonly reportPath?: string;
  /** Where `--k8s-pod-metadata` finds the API and which node's pods it watches. */
  readonly podMetadataSetup: { kubeconfigPath?: string; context?: string; nodeName?: string };
  /** Every count of the run (the report, the ledger and /metrics read them). */
  readonly counters: Counters;
  readonly status: SessionStatus;
  /**
   * Starts the telemetry server when `--telemetry-address` is set (once; runSession does it, a
   * command that waits for its input before the session may do it earlier).
   */
  startTelemetry(): Promise<void>;
  stopTelemetry(): Promise<void>;
}

/** What the session reads, and its state before the first row. */
export interface SessionInput {
  readonly kind: InputKind;
  readonly initial: InputState;
}

/** Loads the configuration and checks every session flag; throws UsageError/ConfigError (exit 2). */
export function prepareSession(
  ctx: CommandContext,
  values: Values,
  input: SessionInput,
  extraSet: readonly string[] = [],
): PreparedSession {
  const { config, logger } = loadCommandConfig(ctx, values, extraSet);
  const counters = new Counters();
  const status = new SessionStatus(counters, input.kind, input.initial);
  let server: Promise<TelemetryServer | undefined> | undefined;
  const address = config.telemetryAddress;
  const shutdownTimeoutMs =
    values['shutdown-timeout'] !== undefined
      ? parseDurationMs(values['shutdown-timeout'] as string, '--shutdown-timeout')
      : DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const reportPath = values['report-json'] as string | undefined;
  if (reportPath !== undefined) checkReportPath(reportPath);
  return {
    config,
    logger,
    shutdownTimeoutMs,
    strict: Boolean(values.strict),
    ...(reportPath !== undefined ? { reportPath } : {}),
    podMetadataSetup: {
      ...(values.kubeconfig !== undefined ? { kubeconfigPath: values.kubeconfig as string } : {}),
      ...(values.context !== undefined ? { context: values.context as string } : {}),
      ...podMetadataNode(values, ctx.env),
    },
    counters,
    status,
    startTelemetry: async () => {
      server ??= address
        ? startTelemetryServer({ address, status, logger: logger.child('telemetry') })
        : Promise.resolve(undefined);
      await server;
    },
    stopTelemetry: async () => {
      await (await server?.catch(() => undefined))?.close();
    },
  };
}

/** Runs one export session over the source and prints the report. */
export async function runSession(
  ctx: CommandContext,
  prepared: PreparedSession,
  makeSource: (parts: SessionParts) => RowSource,
): Promise<number> {
  await prepared.startTelemetry();
  try {
    return await runPrepared(ctx, prepared, makeSource);
  } finally {
    await prepared.stopTelemetry();
  }
}

async function runPrepared(
  ctx: CommandContext,
  prepared: PreparedSession,
  makeSource: (parts: SessionParts) => RowSource,
): Promise<number> {
  const { config, logger, shutdownTimeoutMs, strict, reportPath, counters, status } = prepared;
  const resources = [...config.exporters.values()].map((exporter) => exporter.resource);
  const fieldsBySpec = new WeakMap<ProfileSpec, ReadonlySet<string>>();
  const fieldsRead = (spec: ProfileSpec): ReadonlySet<string> => {
    let fields = fieldsBySpec.get(spec);
    if (fields === undefined) {
      fields = pipelineFieldsRead(spec, resources);
      fieldsBySpec.set(spec, fields);
    }
    return fields;
  };
  const podMetadata = config.k8sPodMetadata
    ? await (
        await import('./k8s-pod-metadata.js')
      ).startPodMetadata({
        ...prepared.podMetadataSetup,
        env: ctx.env,
        logger,
      })
    : undefined;
  if (podMetadata) status.setMetadata(() => podMetadata.status());
  let result: Awaited<ReturnType<typeof runExportSession>>;
  try {
    const source = withRowChecks(
      makeSource({
        config,
        logger,
        counters,
        status,
        fieldsRead,
        ...(podMetadata ? { podMetadata } : {}),
      }),
      { counters, logger, strict },
    );
    result = await runExportSession({
      config,
      source,
      logger,
      counters,
      status,
      shutdownTimeoutMs,
      handleSignals: ctx.handleSignals,
      ...(podMetadata ? { podMetadata } : {}),
    });
  } finally {
    await podMetadata?.stop();
  }
  ctx.stderr(formatReport(counters, result.reports) + '\n');
  if (reportPath !== undefined) {
    const json = {
      exitCode: result.exitCode,
      counters: counters.snapshot(),
      losses: new LossLedger(counters).losses(),
      exporters: Object.fromEntries(result.reports),
      ...(result.sourceError ? { error: result.sourceError.message } : {}),
    };
    writeFileSync(
      reportPath,
      JSON.stringify(json, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n',
    );
  }
  return result.exitCode;
}

/** Loads the configuration, runs one export session over the source and prints the report. */
export async function openSession(
  ctx: CommandContext,
  values: Values,
  input: SessionInput,
  makeSource: (parts: SessionParts) => RowSource,
  extraSet: readonly string[] = [],
): Promise<number> {
  return runSession(ctx, prepareSession(ctx, values, input, extraSet), makeSource);
}
