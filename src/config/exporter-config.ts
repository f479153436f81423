import type { RetryPolicy } from '../util/backoff.js';
/**
 * Resolved configuration of one exporter, after defaults, the IG-style YAML file
 * (`operator.otel-profiles.exporters.<name>`), OTEL_EXPORTER_OTLP_* environment and flags were
 * merged and validated (see load-config.ts). Durations are milliseconds, sizes bytes.
 */
export type ExporterKind = 'otlp-grpc' | 'otlp-http' | 'file' | 'pprof' | 'debug';

export interface TlsConfig {
  /** PEM file of the CA that signs the server certificate (OTEL_EXPORTER_OTLP_CERTIFICATE). */
  readonly caFile?: string;
  /** mTLS client certificate chain and key (PEM). */
  readonly certFile?: string;
  readonly keyFile?: string;
  /** Server name for SNI and certificate verification when it differs from the endpoint host. */
  readonly serverName?: string;
}

export interface BatchConfig {
  /** Flush period of aggregated rows (5 s). */
  readonly intervalMs: number;
  /** ± fraction applied to each period (0.2). */
  readonly jitter: number;
  /** Upper bound of one uncompressed request (4 MiB, at most 64 MiB). */
  readonly maxRequestBytes: number;
  /** Upper bound of samples in one Profile (16,000, Pyroscope's limit). */
  readonly maxSamplesPerProfile: number;
  /** Flush early once this many samples are pending (0 = only by interval and size). */
  readonly maxPendingSamples: number;
}

export interface QueueConfig {
  /** Bound of queued request bytes; the oldest batches are dropped (and counted) beyond it. */
  readonly maxBytes: number;
  /** Bound of queued requests. */
  readonly maxRequests: number;
  /** Persistent queue directory; unset = memory queue. */
  readonly directory?: string;
  /** Requests sent concurrently (1 keeps order). */
  readonly concurrency: number;
}

export interface ResourceConfig {
  /** One ResourceProfiles per process (default, the OTel TC recommendation) or per container. */
  readonly groupBy: 'process' | 'container';
  /**
   * Where service.name comes from, first match wins. Sources: `k8s.env` (the container spec's
   * OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES), `k8s.semconv` and `k8s.semconv.labels` (the
   * semantic conventions' Kubernetes chain; both need pod metadata), `label:<pod label key>`,
   * `owner` (k8s workload name), `k8s.container.name`, `container.name`, `field:<gadget field>`,
   * `env` (OTEL_SERVICE_NAME), `process.executable.name`.
   */
  readonly serviceName: readonly string[];
  /** Static attributes under every resource (OTEL_RESOURCE_ATTRIBUTES, config); row data wins. */
  readonly attributes: Readonly<Record<string, string>>;
}

export interface SampleConfig {
  /**
   * How repeated observations of one sample identity (stack, attributes, link) become Samples:
   * - `flush` (default): one Sample per identity per flush, `values:[total]` and one timestamp (the
   *   first fetch's start). Merged as the spec asks, and accepted by the Collector, Pyroscope (one
   *   value with a period) and Elastic (needs timestamps).
   * - `per-fetch`: one Sample per identity and fetch (`values:[n]`, that fetch's timestamp): fetch
   *   time resolution, but identities repeat within a profile (the spec's SHOULD-merge is not met).
   * - `identity`: one Sample per identity with per-fetch values and timestamps (the spec's
   *   per-timestamp shape); Pyroscope rejects more than one value on a profile with a period.
   */
  readonly merge: 'flush' | 'per-fetch' | 'identity';
}

export interface ExporterConfig {
  /** The key under operator.otel-profiles.exporters (or `default` for the env-only exporter). */
  readonly name: string;
  readonly exporter: ExporterKind;
  /** otlp-grpc: `host:port` or `http(s)://host:port`; otlp-http: full URL including the path. */
  readonly endpoint?: string;
  /** Plaintext (no TLS). */
  readonly insecure: boolean;
  readonly compression: 'gzip' | 'none';
  /** Extra request headers / gRPC metadata. Values are secrets: never logged. */
  readonly headers: Readonly<Record<string, string>>;
  /** Per-attempt timeout. */
  readonly timeoutMs: number;
  readonly tls: TlsConfig;
  /** otlp-http body encoding. */
  readonly protocol: 'protobuf' | 'json';
  /** otlp-http JSON id encoding: hex (OTLP spec, Collector) or base64 (Pyroscope's protojson). */
  readonly jsonBytes: 'hex' | 'base64';
  /** file: output path; `-` = stdout. */
  readonly path?: string;
  /** file: one OTLP/JSON request per line, or length-prefixed protobuf (Collector file exporter). */
  readonly format: 'json' | 'proto';
  /** pprof: output directory. */
  readonly directory?: string;
  readonly retry: RetryPolicy;
  readonly batch: BatchConfig;
  readonly queue: QueueConfig;
  readonly resource: ResourceConfig;
  readonly samples: SampleConfig;
}
