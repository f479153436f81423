import { writeFileSync } from 'node:fs';
import type { LoadedConfig } from '../config/load-config.js';
import { loadConfig } from '../config/load-config.js';
import type { ProfileSpec } from '../gadget-bridge/profile-spec.js';
import type { RowSource } from '../gadget-bridge/row-batch.js';
import { Counters } from '../observability/counters.js';
import type { Logger, LogLevel } from '../observability/logger.js';
import { createLogger, parseLogLevel } from '../observability/logger.js';
import type { PodMetadataInformer } from '../gadget-bridge/k8s/pod-metadata-informer.js';
import { pipelineFieldsRead } from '../profiles/fields-read.js';
import { parseDurationMs, UsageError } from './cli-options.js';
import { runExportSession } from './export-session.js';
import { formatReport } from './format-report.js';

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
  const bootLogger = createLogger({ level: level ?? 'info', write: ctx.stderr });
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
      ...(values.timeout !== undefined ? { timeout: values.timeout as string } : {}),
      ...(level !== undefined ? { logLevel: level } : {}),
      ...(values['k8s-pod-metadata'] !== undefined
        ? { k8sPodMetadata: Boolean(values['k8s-pod-metadata']) }
        : {}),
    },
  });
  const logger = createLogger({ level: level ?? config.logLevel, write: ctx.stderr });
  return { config, logger };
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

/** Loads the configuration, runs one export session over the source and prints the report. */
export async function openSession(
  ctx: CommandContext,
  values: Values,
  makeSource: (parts: SessionParts) => RowSource,
  extraSet: readonly string[] = [],
): Promise<number> {
  const { config, logger } = loadCommandConfig(ctx, values, extraSet);
  const counters = new Counters();
  const shutdownTimeoutMs =
    values['shutdown-timeout'] !== undefined
      ? parseDurationMs(values['shutdown-timeout'] as string, '--shutdown-timeout')
      : DEFAULT_SHUTDOWN_TIMEOUT_MS;
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
        ...(values.kubeconfig !== undefined ? { kubeconfigPath: values.kubeconfig as string } : {}),
        ...(values.context !== undefined ? { context: values.context as string } : {}),
        ...podMetadataNode(values, ctx.env),
        env: ctx.env,
        logger,
      })
    : undefined;
  let result: Awaited<ReturnType<typeof runExportSession>>;
  try {
    const source = makeSource({
      config,
      logger,
      counters,
      fieldsRead,
      ...(podMetadata ? { podMetadata } : {}),
    });
    result = await runExportSession({
      config,
      source,
      logger,
      counters,
      shutdownTimeoutMs,
      handleSignals: ctx.handleSignals,
      ...(podMetadata ? { podMetadata } : {}),
    });
  } finally {
    await podMetadata?.stop();
  }
  ctx.stderr(formatReport(counters, result.reports) + '\n');
  const reportPath = values['report-json'] as string | undefined;
  if (reportPath !== undefined) {
    const json = {
      exitCode: result.exitCode,
      counters: counters.snapshot(),
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
