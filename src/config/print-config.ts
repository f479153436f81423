import { stringify } from 'yaml';
import {
  K8S_POD_METADATA_KEY,
  LOG_FORMAT_KEY,
  LOG_LEVEL_KEY,
  SELECTION_KEY,
  TELEMETRY_ADDRESS_KEY,
} from './config-file.js';
import type { ExporterConfig } from './exporter-config.js';
import type { LoadedConfig } from './load-config.js';
import { formatDuration, formatSize } from './units.js';

/** What header values print as: they are secrets. */
export const REDACTED = '<redacted>';

/** One exporter in the file's layout (snake_case keys, durations and sizes as text). */
function exporterToYaml(c: ExporterConfig): Record<string, unknown> {
  const isOtlp = c.exporter === 'otlp-grpc' || c.exporter === 'otlp-http';
  const tls = {
    ...(c.tls.caFile !== undefined ? { ca_file: c.tls.caFile } : {}),
    ...(c.tls.certFile !== undefined ? { cert_file: c.tls.certFile } : {}),
    ...(c.tls.keyFile !== undefined ? { key_file: c.tls.keyFile } : {}),
    ...(c.tls.serverName !== undefined ? { server_name: c.tls.serverName } : {}),
  };
  return {
    exporter: c.exporter,
    ...(isOtlp
      ? {
          endpoint: c.endpoint,
          insecure: c.insecure,
          compression: c.compression,
          headers: Object.fromEntries(Object.keys(c.headers).map((k) => [k, REDACTED])),
          ...(Object.keys(tls).length > 0 ? { tls } : {}),
        }
      : {}),
    ...(c.exporter === 'otlp-http' ? { protocol: c.protocol, json_bytes: c.jsonBytes } : {}),
    ...(c.exporter === 'file' ? { path: c.path, format: c.format } : {}),
    ...(c.exporter === 'pprof' ? { directory: c.directory } : {}),
    timeout: formatDuration(c.timeoutMs),
    retry: {
      enabled: c.retry.enabled,
      initial_interval: formatDuration(c.retry.initialIntervalMs),
      multiplier: c.retry.multiplier,
      max_interval: formatDuration(c.retry.maxIntervalMs),
      max_elapsed_time: formatDuration(c.retry.maxElapsedMs),
      jitter: c.retry.jitter,
    },
    batch: {
      interval: formatDuration(c.batch.intervalMs),
      jitter: c.batch.jitter,
      max_request_size: formatSize(c.batch.maxRequestBytes),
      max_samples_per_profile: c.batch.maxSamplesPerProfile,
      max_pending_samples: c.batch.maxPendingSamples,
    },
    queue: {
      ...(c.queue.directory !== undefined ? { directory: c.queue.directory } : {}),
      max_size: formatSize(c.queue.maxBytes),
      max_requests: c.queue.maxRequests,
      concurrency: c.queue.concurrency,
    },
    resource: {
      group_by: c.resource.groupBy,
      service_name: [...c.resource.serviceName],
      attributes: { ...c.resource.attributes },
    },
    samples: { merge: c.samples.merge },
  };
}

/**
 * The effective configuration as an IG-style YAML file (what `--print-config` shows): the
 * selected exporters with every default spelled out, header values redacted, and the sources as
 * comments. Without headers, the output loads back to the same configuration.
 */
export function renderConfig(config: LoadedConfig): string {
  const exporters = Object.fromEntries([...config.exporters].map(([name, c]) => [name, exporterToYaml(c)]));
  const section = {
    [LOG_LEVEL_KEY]: config.logLevel,
    ...(config.k8sPodMetadata ? { [K8S_POD_METADATA_KEY]: true } : {}),
    [LOG_FORMAT_KEY]: config.logFormat,
    ...(config.telemetryAddress ? { [TELEMETRY_ADDRESS_KEY]: config.telemetryAddress.text } : {}),
    ...(config.selection.text !== '' ? { [SELECTION_KEY]: config.selection.text } : {}),
    exporters,
  };
  const header = config.sources.map((s) => `# source: ${s}`).join('\n');
  return `${header}\n${stringify({ operator: { 'otel-profiles': section } }, { lineWidth: 0 })}`;
}
