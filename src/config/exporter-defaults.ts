import type { BatchConfig, QueueConfig, ResourceConfig, SampleConfig } from './exporter-config.js';
import { defaultLayer } from './exporter-settings.js';
import { landSettings } from './resolve-exporter.js';

/**
 * The schema's defaults (exporter-schema.ts) as typed values, for code and tests that build an
 * ExporterConfig part without loading a configuration. Not a second definition: read from the rows.
 */

const DEFAULTS = landSettings(
  'default',
  defaultLayer({ kind: 'otlp-grpc', k8sPodMetadata: false, envBuilt: false }),
);

/** Per-attempt timeout (OTLP spec default). */
export const DEFAULT_TIMEOUT_MS: number = DEFAULTS.timeoutMs;
export const DEFAULT_BATCH: BatchConfig = DEFAULTS.batch;
/** Memory queue (no directory). */
export const DEFAULT_QUEUE: QueueConfig = DEFAULTS.queue;
/** Without pod metadata (see K8S_POD_METADATA_SERVICE_NAME for the chain with it). */
export const DEFAULT_RESOURCE: ResourceConfig = DEFAULTS.resource;
export const DEFAULT_SAMPLES: SampleConfig = DEFAULTS.samples;
