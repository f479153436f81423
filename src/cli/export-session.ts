import type { LoadedConfig } from '../config/load-config.js';
import { selectExporters } from '../config/exporter-selection.js';
import type { RowSource } from '../rows/row-batch.js';
import type { PodMetadataLookup } from '../rows/pod-metadata.js';
import type { Counters } from '../observability/counters.js';
import type { Logger } from '../observability/logger.js';
import type { SessionStatus } from '../observability/session-status.js';
import { LossLedger } from '../observability/loss-ledger.js';
import { ResourceResolver } from '../profiles/aggregation/resource-attributes.js';
import { createTransport } from '../exporter/create-transport.js';
import type { DeliveryReport, Exporter } from '../exporter/delivery/exporter.js';
import { createExporter } from '../exporter/delivery/exporter.js';
import { ProfilesPipeline } from '../exporter/profiles-pipeline.js';
import { AcknowledgementTracker } from './acknowledgement-tracker.js';
import type { PipelineWait } from './acknowledgement-tracker.js';
import { keepProcessAlive } from './process-keep-alive.js';
import { ShutdownDeadline } from './shutdown-deadline.js';
import { asError } from '../util/error-text.js';

/**
 * One run of the exporter from a row source to every selected exporter: builds the per-exporter
 * pipelines, routes batches by datasource, handles SIGINT/SIGTERM (stop reading, flush, drain
 * with a deadline) and returns what was delivered, dropped and left pending.
 */

/** Exit codes: documented in the README. */
export const EXIT_OK = 0;
export const EXIT_FATAL = 1;
export const EXIT_USAGE = 2;
export const EXIT_INCOMPLETE = 3;

export interface ExportSessionOptions {
  readonly config: LoadedConfig;
  readonly source: RowSource;
  readonly logger: Logger;
  readonly counters: Counters;
  /** The live state /readyz and /metrics read: exporters register here. */
  readonly status?: SessionStatus;
  /** How long the end may take, from the first signal or the end of input, whichever comes first. */
  readonly shutdownTimeoutMs: number;
  readonly handleSignals?: boolean;
  /** Pod metadata for resource attributes (`--k8s-pod-metadata`). */
  readonly podMetadata?: PodMetadataLookup;
}

export interface SessionResult {
  readonly exitCode: number;
  readonly reports: ReadonlyMap<string, DeliveryReport>;
  readonly sourceError?: Error;
}

interface Lane {
  readonly pipeline: ProfilesPipeline;
  readonly exporter: Exporter;
}

async function openLanes(options: ExportSessionOptions, onFlushed: () => void): Promise<Map<string, Lane>> {
  const { config, logger, counters } = options;
  const lanes = new Map<string, Lane>();
  for (const [name, exporterConfig] of config.exporters) {
    const log = logger.child(name);
    const transport = await createTransport(exporterConfig, { logger: log, counters });
    const exporter = createExporter({
      name,
      config: exporterConfig,
      transport,
      logger: log,
      counters,
      ...(options.status ? { latency: options.status.exportLatency } : {}),
    });
    options.status?.addExporter({
      name,
      queue: {
        medium: exporterConfig.queue.directory ? 'disk' : 'memory',
        maxRequests: exporterConfig.queue.maxRequests,
        maxBytes: exporterConfig.queue.maxBytes,
      },
      stats: () => exporter.stats(),
    });
    await exporter.start();
    const pipeline = new ProfilesPipeline({
      config: exporterConfig,
      resources: new ResourceResolver({
        config: exporterConfig.resource,
        ...(config.serviceNameFromEnv !== undefined ? { serviceNameFromEnv: config.serviceNameFromEnv } : {}),
        ...(options.podMetadata ? { podMetadata: options.podMetadata } : {}),
      }),
      consumer: exporter,
      counters,
      logger: log,
      onFlushed,
    });
    pipeline.start();
    lanes.set(name, { pipeline, exporter });
    log.info(`exporter ready: ${transport.description}`);
  }
  return lanes;
}

export async function runExportSession(options: ExportSessionOptions): Promise<SessionResult> {
  const release = keepProcessAlive();
  const shutdown = new ShutdownDeadline(options.shutdownTimeoutMs);
  try {
    return await runSession(options, shutdown);
  } finally {
    shutdown.dispose();
    release();
  }
}

async function runSession(options: ExportSessionOptions, shutdown: ShutdownDeadline): Promise<SessionResult> {
  const { config, source, logger, counters, status } = options;
  const acks = new AcknowledgementTracker();
  const lanes = await openLanes(options, () => acks.update());
  const unrouted = new Set<string>();
  let stopping = false;

  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stopping) {
      stopping = true;
      shutdown.start();
      logger.info(
        `${signal}: stopping the input, flushing and draining within ${options.shutdownTimeoutMs} ms (send again to give up waiting)`,
      );
      void source.stop();
    } else {
      shutdown.abandon();
      logger.warn(`${signal} again: abandoning the drain; undelivered data is counted as dropped`);
    }
  };
  if (options.handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let sourceError: Error | undefined;
  try {
    for await (const batch of shutdown.readUntilExpired(source.batches())) {
      // A source that does not say when it is connected (the Kubernetes fan-in) is once rows arrive.
      if (status?.input.state === 'connecting')
        status.setInput({ state: 'connected', detail: `receiving from ${batch.origin}` });
      const names = selectExporters(config.selection, batch.spec.datasource);
      if (names.length === 0) {
        new LossLedger(counters).dropRows(batch.rows.length, 'no_exporter_selected');
        if (!unrouted.has(batch.spec.datasource)) {
          unrouted.add(batch.spec.datasource);
          logger.warn(
            `datasource "${batch.spec.datasource}" has no exporter: its rows are dropped (counted). ` +
              `Select one with --otel-profiles-exporter ${batch.spec.datasource}:<name>`,
          );
        }
        if (batch.acknowledge) acks.track(batch.acknowledge, []);
        continue;
      }
      const waits: PipelineWait[] = [];
      for (const name of names) {
        const pipeline = lanes.get(name)?.pipeline;
        if (!pipeline) continue;
        pipeline.add(batch);
        waits.push({ pipeline, count: pipeline.added });
      }
      if (batch.acknowledge) acks.track(batch.acknowledge, waits);
    }
  } catch (err) {
    sourceError = asError(err);
    logger.error(`input failed: ${sourceError.message}`);
  }
  status?.setInput({
    state: 'ended',
    detail: sourceError ? `input failed: ${sourceError.message}` : 'the input ended; draining',
  });

  if (shutdown.inputCut)
    logger.warn(
      `the input did not end ${shutdown.abandoned ? 'before the second signal' : 'within the shutdown timeout'}: ` +
        'stopped reading it (what it still held is not exported)',
    );
  shutdown.start();
  for (const lane of lanes.values()) await lane.pipeline.stop();
  const reports = new Map<string, DeliveryReport>();
  for (const [name, lane] of lanes) {
    reports.set(name, await lane.exporter.shutdown(shutdown.remainingMs(), shutdown.signal));
  }
  if (options.handleSignals) {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }

  // Whatever stage lost data recorded it in the ledger; what stays on disk is sent on the next start.
  const incomplete =
    new LossLedger(counters).hasLosses() || [...reports.values()].some((r) => r.pendingOnDisk.requests > 0);
  const exitCode = sourceError ? EXIT_FATAL : incomplete ? EXIT_INCOMPLETE : EXIT_OK;
  return { exitCode, reports, ...(sourceError ? { sourceError } : {}) };
}
