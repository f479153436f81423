import { DEFAULT_RETRY_POLICY } from '../util/backoff.js';
import { isPlainObject } from '../util/plain-object.js';
import { DEFAULT_GRPC_ENDPOINT, DEFAULT_HTTP_ENDPOINT } from './endpoint.js';
import type { ExporterConfig, ExporterKind } from './exporter-config.js';
import type { SchemaRow } from './schema-row.js';
import type { ValueType } from './value-types.js';
import {
  booleanValue,
  durationValue,
  integerValue,
  numberValue,
  oneOf,
  pathValue,
  serviceNameListValue,
  sizeValue,
  stringMapValue,
  stringValue,
} from './value-types.js';

/**
 * Every key of an exporter, declared once: its name as written in the file and in
 * `--set operator.otel-profiles.exporters.NAME.<key>`, its value type (parsing, validation, error
 * text), its default, the `ExporterConfig` field it lands in, the kinds that use it and its line in
 * the key table of docs/configuration.md. Parsing (exporter-settings.ts), defaults, resolution
 * (resolve-exporter.ts), `--print-config` (print-config.ts) and the docs table
 * (exporter-key-table.ts) all read these rows.
 *
 * TypeScript checks each row: `field` must be a field of ExporterConfig, the value type must
 * produce that field's type, a required field must have a default, and every field has a row
 * (`SCHEMA_COVERS_EVERY_FIELD` below). Renaming a key or a field therefore cannot compile into a
 * value that silently stays at its default.
 */

export const EXPORTER_KINDS: readonly ExporterKind[] = ['otlp-grpc', 'otlp-http', 'file', 'pprof', 'debug'];
const OTLP: readonly ExporterKind[] = ['otlp-grpc', 'otlp-http'];

export function isOtlpKind(kind: ExporterKind): boolean {
  return OTLP.includes(kind);
}

/** Largest request the OTLP spec lets a client send (before compression). */
const MAX_REQUEST_SIZE_LIMIT = 64 * 1024 * 1024;

/** What header values print as: they are secrets. */
export const REDACTED = '<redacted>';

/** The nested objects of ExporterConfig; their fields are `section.field` paths. */
type Section = 'tls' | 'retry' | 'batch' | 'queue' | 'resource' | 'samples';
type TopField = Exclude<keyof ExporterConfig, Section | 'name'>;

/** A field of ExporterConfig a key lands in: `timeoutMs`, `retry.initialIntervalMs`. */
export type FieldPath = TopField | { [S in Section]: `${S}.${keyof ExporterConfig[S] & string}` }[Section];

/** The type of the field at `F` (without `undefined`). */
export type FieldValue<F extends FieldPath> = Exclude<
  F extends `${infer S extends Section}.${infer L}`
    ? ExporterConfig[S][L & keyof ExporterConfig[S]]
    : ExporterConfig[F & TopField],
  undefined
>;

type OptionalFieldPath = {
  [F in FieldPath]: undefined extends (
    F extends `${infer S extends Section}.${infer L}`
      ? ExporterConfig[S][L & keyof ExporterConfig[S]]
      : ExporterConfig[F & TopField]
  )
    ? F
    : never;
}[FieldPath];

/** What a default may depend on. */
export interface DefaultContext {
  readonly kind: ExporterKind;
  /** Pod metadata is on (the service.name chain starts with the Kubernetes sources). */
  readonly k8sPodMetadata: boolean;
  /** The exporter is `default` built from the environment (spec default endpoints apply). */
  readonly envBuilt: boolean;
}

type Default<V> = V | ((ctx: DefaultContext) => V);

export type DocGroup =
  'common' | 'otlp' | 'retry' | 'batch' | 'queue' | 'resource' | 'samples' | 'file' | 'pprof';

export interface KeyDoc {
  readonly group: DocGroup;
  readonly meaning: string;
  /** Overrides the default column (needed when the default depends on the context). */
  readonly default?: string;
}

interface RowBase<K extends string, F extends FieldPath> {
  /** As written in the file (nested at the dots) and after `exporters.NAME.` in `--set`. */
  readonly key: K;
  readonly field: F;
  readonly type: ValueType<FieldValue<F>>;
  /** Exporter kinds that use the key; set on another kind, it is ignored with a warning. Unset = all. */
  readonly appliesTo?: readonly ExporterKind[];
  /** Another accepted spelling (full key); setting both is an error. */
  readonly alias?: string;
  readonly doc: KeyDoc;
}

/** A required field needs a default; an optional one may have one (or be checked as required per kind). */
type RowDef<K extends string, F extends FieldPath> = RowBase<K, F> &
  (F extends OptionalFieldPath
    ? { readonly default?: Default<FieldValue<F> | undefined> }
    : { readonly default: Default<FieldValue<F>> });

function row<const K extends string, F extends FieldPath>(def: RowDef<K, F>): RowDef<K, F> {
  return def;
}

/** One resource per process; service.name from workload labels, then the workload, then the executable. */
const DEFAULT_SERVICE_NAME: readonly string[] = [
  'label:app.kubernetes.io/name',
  'label:app',
  'owner',
  'k8s.container.name',
  'container.name',
  'env',
  'process.executable.name',
];

/**
 * The service.name chain when pod metadata is on: what the container's SDK reports
 * (OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES of its spec), then the semantic conventions'
 * Kubernetes chain; the rest serves processes no pod was found for (host processes, no API).
 */
export const K8S_POD_METADATA_SERVICE_NAME: readonly string[] = [
  'k8s.env',
  'k8s.semconv',
  ...DEFAULT_SERVICE_NAME,
];

const RATIO_EXAMPLES = '0.2 for ±20%; between 0 and 1';

export const EXPORTER_SCHEMA = [
  row({
    key: 'exporter',
    field: 'exporter',
    type: oneOf(EXPORTER_KINDS),
    default: (ctx) => ctx.kind,
    doc: {
      group: 'common',
      default: '— (required)',
      meaning: 'What the exporter does. `debug` prints a summary of each request to stderr.',
    },
  }),
  row({
    key: 'timeout',
    field: 'timeoutMs',
    type: durationValue({ examples: '10s, 500ms; 0 = no limit' }),
    // The OTLP spec's default.
    default: 10_000,
    doc: {
      group: 'common',
      meaning:
        'Per-attempt timeout of one request (gRPC deadline, HTTP request, file write). `0` = no limit.',
    },
  }),
  row({
    key: 'endpoint',
    field: 'endpoint',
    type: stringValue(),
    appliesTo: OTLP,
    // Only the env-built `default` falls back to the spec's endpoint; elsewhere it is required.
    default: (ctx) =>
      ctx.envBuilt ? (ctx.kind === 'otlp-grpc' ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT) : undefined,
    doc: {
      group: 'otlp',
      default: '— (required in the file; see [default](#the-default-exporter))',
      meaning: 'Where to send. See [Endpoints](#endpoints).',
    },
  }),
  row({
    key: 'insecure',
    field: 'insecure',
    type: booleanValue(),
    appliesTo: OTLP,
    default: false,
    doc: {
      group: 'otlp',
      meaning:
        "Plaintext. For gRPC it decides TLS for an endpoint without a scheme (IG's convention: `insecure: true`); for HTTP it picks `http://` for an endpoint without a scheme. `insecure: true` with an `https://` endpoint is an error.",
    },
  }),
  row({
    key: 'compression',
    field: 'compression',
    type: oneOf(['none', 'gzip'], { emptyIsUnset: true }),
    appliesTo: OTLP,
    default: (ctx) => (isOtlpKind(ctx.kind) ? 'gzip' : 'none'),
    doc: {
      group: 'otlp',
      default: '`gzip`',
      meaning:
        'Request compression. `""` means unset. IG\'s operator defaults to none; we default to gzip, which every OTLP receiver accepts.',
    },
  }),
  row({
    key: 'headers',
    field: 'headers',
    type: stringMapValue({ redactedAs: REDACTED }),
    appliesTo: OTLP,
    default: {},
    doc: {
      group: 'otlp',
      meaning:
        "Extra HTTP headers / gRPC metadata (e.g. `authorization`, `x-scope-orgid`). Values are secrets: they never appear in logs, errors or printed configs. Names and values are checked at start-up (exit 2, naming the header): otlp-http takes HTTP header names (letters, digits, ``!#$%&'*+-.^_`|~``) and values without control characters; otlp-grpc takes lower-case-able names of letters, digits, `-_.`, not starting with `grpc-`, printable-ASCII values, and base64 values for names ending in `-bin`.",
    },
  }),
  row({
    key: 'protocol',
    field: 'protocol',
    type: oneOf(['protobuf', 'json']),
    appliesTo: ['otlp-http'],
    default: 'protobuf',
    doc: { group: 'otlp', meaning: 'Request body encoding (`application/x-protobuf` or OTLP/JSON).' },
  }),
  row({
    key: 'json_bytes',
    field: 'jsonBytes',
    type: oneOf(['hex', 'base64']),
    appliesTo: ['otlp-http'],
    default: 'hex',
    doc: {
      group: 'otlp',
      meaning:
        'How trace/span ids are written in OTLP/JSON: `hex` per the OTLP spec (Collector), `base64` for receivers that parse JSON with protojson (Pyroscope).',
    },
  }),
  row({
    key: 'tls.ca_file',
    field: 'tls.caFile',
    type: pathValue(),
    appliesTo: OTLP,
    doc: {
      group: 'otlp',
      meaning: 'PEM CA bundle that signs the server certificate (default: the system roots).',
    },
  }),
  row({
    key: 'tls.cert_file',
    field: 'tls.certFile',
    type: pathValue(),
    appliesTo: OTLP,
    doc: { group: 'otlp', meaning: 'PEM client certificate chain for mTLS; needs `tls.key_file`.' },
  }),
  row({
    key: 'tls.key_file',
    field: 'tls.keyFile',
    type: pathValue(),
    appliesTo: OTLP,
    doc: { group: 'otlp', meaning: 'PEM private key for mTLS; needs `tls.cert_file`.' },
  }),
  row({
    key: 'tls.server_name',
    field: 'tls.serverName',
    type: stringValue(),
    appliesTo: OTLP,
    doc: {
      group: 'otlp',
      meaning:
        "Name used for SNI and certificate verification when it differs from the endpoint host. An IP address (here or as the endpoint host) is verified against the certificate's IP SANs and not sent as SNI, which RFC 6066 forbids.",
    },
  }),
  row({
    key: 'retry.enabled',
    field: 'retry.enabled',
    type: booleanValue(),
    default: DEFAULT_RETRY_POLICY.enabled,
    doc: { group: 'retry', meaning: '`false` = one attempt, then drop (counted).' },
  }),
  row({
    key: 'retry.initial_interval',
    field: 'retry.initialIntervalMs',
    type: durationValue({ examples: '5s, 500ms', positive: true }),
    default: DEFAULT_RETRY_POLICY.initialIntervalMs,
    doc: { group: 'retry', meaning: 'First backoff.' },
  }),
  row({
    key: 'retry.multiplier',
    field: 'retry.multiplier',
    type: numberValue({ min: 1, examples: '1.5; at least 1' }),
    default: DEFAULT_RETRY_POLICY.multiplier,
    doc: { group: 'retry', meaning: 'Growth of the backoff per attempt.' },
  }),
  row({
    key: 'retry.max_interval',
    field: 'retry.maxIntervalMs',
    type: durationValue({ examples: '30s, 1m', positive: true }),
    default: DEFAULT_RETRY_POLICY.maxIntervalMs,
    doc: { group: 'retry', meaning: 'Cap of one backoff; must be ≥ `initial_interval`.' },
  }),
  row({
    key: 'retry.max_elapsed_time',
    field: 'retry.maxElapsedMs',
    type: durationValue({ examples: '30s, 5m, 0 = retry forever' }),
    default: DEFAULT_RETRY_POLICY.maxElapsedMs,
    doc: {
      group: 'retry',
      meaning: 'Give up on a request after this long (then it is dropped and counted). `0` = retry forever.',
    },
  }),
  row({
    key: 'retry.jitter',
    field: 'retry.jitter',
    type: numberValue({ min: 0, max: 1, examples: RATIO_EXAMPLES }),
    default: DEFAULT_RETRY_POLICY.jitter,
    doc: { group: 'retry', meaning: 'Random ± fraction applied to each backoff (0.2 = ±20%).' },
  }),
  row({
    key: 'batch.interval',
    field: 'batch.intervalMs',
    type: durationValue({ examples: '5s, 1m', positive: true }),
    default: 5_000,
    doc: { group: 'batch', meaning: 'How often aggregated samples are turned into a request.' },
  }),
  row({
    key: 'batch.jitter',
    field: 'batch.jitter',
    type: numberValue({ min: 0, max: 1, examples: RATIO_EXAMPLES }),
    // Keeps nodes out of lockstep.
    default: 0.2,
    doc: {
      group: 'batch',
      meaning: 'Random ± fraction applied to each interval, so nodes do not send in lockstep.',
    },
  }),
  row({
    key: 'batch.max_request_size',
    field: 'batch.maxRequestBytes',
    type: sizeValue({
      min: 1024,
      max: {
        bytes: MAX_REQUEST_SIZE_LIMIT,
        problem:
          "exceeds 64MiB, the largest request OTLP allows (use at most 64MiB; 4MiB fits every receiver's default)",
      },
    }),
    // The default receive limit of gRPC servers (the Collector).
    default: 4 * 1024 * 1024,
    doc: {
      group: 'batch',
      meaning:
        "Largest uncompressed request; larger ones are split (a single stack sample larger than this is dropped, counted as `too_large`). A backend that refuses a request as too large (HTTP 413, gRPC message-size error) gets it again in halves, and later requests are cut under the size it refused; only a lone stack it still refuses is dropped (`too_large`). 4 MiB is the default receive limit of gRPC servers (the Collector) and Pyroscope's per-profile limit; the OTLP spec caps requests at 64 MiB.",
    },
  }),
  row({
    key: 'batch.max_samples_per_profile',
    field: 'batch.maxSamplesPerProfile',
    type: integerValue({ min: 1 }),
    // Pyroscope's per-profile limit.
    default: 16_000,
    doc: {
      group: 'batch',
      meaning: "Largest number of samples in one Profile (Pyroscope's limit); larger profiles are split.",
    },
  }),
  row({
    key: 'batch.max_pending_samples',
    field: 'batch.maxPendingSamples',
    type: integerValue({ min: 0 }),
    default: 0,
    doc: {
      group: 'batch',
      meaning:
        'Flush early when this many samples are waiting. `0` = only by interval and size (a flush also starts early once the pending data is estimated to fill a `max_request_size` request, which bounds memory between flushes).',
    },
  }),
  row({
    key: 'queue.directory',
    field: 'queue.directory',
    type: pathValue(),
    doc: {
      group: 'queue',
      meaning:
        'Persistent queue directory (survives restarts). Unset = memory queue. Missing directories are created `0700`, queue files `0600` (they hold profiles). Checked at start: a path that is not a directory or where files cannot be created (read-only, `/proc`, `/sys`) stops the run with exit 2.',
    },
  }),
  row({
    key: 'queue.max_size',
    field: 'queue.maxBytes',
    type: sizeValue({ min: 1 }),
    alias: 'queue.max_bytes',
    default: 64 * 1024 * 1024,
    doc: {
      group: 'queue',
      meaning:
        "Bound of queued request bytes; beyond it the oldest requests are dropped and counted. `queue.max_bytes` is accepted as another name (not both). Requests a worker is sending or retrying are in flight and not counted. The end-of-run report (and `--report-json`, `queuePeak`) gives the queue's high-water mark, waiting and in flight, to size it by.",
    },
  }),
  row({
    key: 'queue.max_requests',
    field: 'queue.maxRequests',
    type: integerValue({ min: 1 }),
    default: 1_000,
    doc: { group: 'queue', meaning: 'Bound of queued requests.' },
  }),
  row({
    key: 'queue.concurrency',
    field: 'queue.concurrency',
    type: integerValue({ min: 1 }),
    // One request in flight keeps order.
    default: 1,
    doc: { group: 'queue', meaning: 'Requests in flight at once. `1` keeps order.' },
  }),
  row({
    key: 'resource.group_by',
    field: 'resource.groupBy',
    type: oneOf(['process', 'container']),
    default: 'process',
    doc: {
      group: 'resource',
      meaning: 'One OTLP Resource per process (the OTel recommendation) or per container.',
    },
  }),
  row({
    key: 'resource.service_name',
    field: 'resource.serviceName',
    type: serviceNameListValue(),
    default: (ctx) => (ctx.k8sPodMetadata ? K8S_POD_METADATA_SERVICE_NAME : DEFAULT_SERVICE_NAME),
    doc: {
      group: 'resource',
      default:
        '`["label:app.kubernetes.io/name", "label:app", "owner", "k8s.container.name", "container.name", "env", "process.executable.name"]`; with [pod metadata](#kubernetes-pod-metadata---k8s-pod-metadata) on, `["k8s.env", "k8s.semconv", …the same]`',
      meaning:
        "Where `service.name` comes from; the first source with a value wins. Sources: `k8s.env` (the container spec's `OTEL_SERVICE_NAME`, else the `service.name` of its `OTEL_RESOURCE_ATTRIBUTES`: what the workload's SDK reports), `k8s.semconv` (the semantic conventions' Kubernetes chain, below), `k8s.semconv.labels` (the same with the opt-in well-known labels), `label:<pod label>`, `field:<gadget field>`, `owner` (the workload, e.g. the Deployment), `k8s.container.name`, `container.name`, `env` (`OTEL_SERVICE_NAME`), `process.executable.name`. The `k8s.*` sources yield nothing without pod metadata or for a process no pod was found for (host processes), so the rest of the chain decides there. A configured chain is used as written, pod metadata or not.",
    },
  }),
  row({
    key: 'resource.attributes',
    field: 'resource.attributes',
    type: stringMapValue(),
    default: {},
    doc: {
      group: 'resource',
      meaning:
        'Static attributes on every resource (e.g. `deployment.environment.name`). `OTEL_RESOURCE_ATTRIBUTES` is merged in (env wins per key). Attributes derived from the data win over both.',
    },
  }),
  row({
    key: 'samples.merge',
    field: 'samples.merge',
    type: oneOf(['flush', 'per-fetch', 'identity']),
    default: 'flush',
    doc: {
      group: 'samples',
      meaning:
        "How repeated observations of one sample identity (stack, attributes, link) become Samples. `flush`: one Sample per identity per flush with `values: [total]` and one timestamp (the first fetch's start): merged as the spec asks, accepted by the Collector, Pyroscope (exactly one value on a profile with a period) and Elastic (needs timestamps). `per-fetch`: one Sample per identity and gadget fetch (`values: [n]`, that fetch's timestamp): fetch time resolution, but identities repeat within a profile (the spec's SHOULD-merge is not met). `identity`: one Sample per identity with per-fetch values and timestamps appended (the spec's per-timestamp shape; Pyroscope rejects several values on a profile with a period).",
    },
  }),
  row({
    key: 'path',
    field: 'path',
    type: pathValue('path or `-`'),
    appliesTo: ['file'],
    doc: { group: 'file', default: '— (required)', meaning: 'Output file; `-` = stdout.' },
  }),
  row({
    key: 'format',
    field: 'format',
    type: oneOf(['json', 'proto']),
    appliesTo: ['file'],
    default: 'json',
    doc: {
      group: 'file',
      meaning:
        "`json`: one OTLP/JSON request per line. `proto`: length-prefixed protobuf requests (as the Collector's file exporter writes them).",
    },
  }),
  row({
    key: 'directory',
    field: 'directory',
    type: pathValue(),
    appliesTo: ['pprof'],
    doc: {
      group: 'pprof',
      default: '— (required)',
      meaning: 'Directory the gzipped pprof files (`.pb.gz`) go to; view them with `go tool pprof`.',
    },
  }),
] as const;

/** A key name of the schema (`retry.max_elapsed_time`): a typo in code that names a key does not compile. */
export type ExporterKeyName = (typeof EXPORTER_SCHEMA)[number]['key'];

/** One row with its value type erased, for the code that treats every row alike. */
export interface ExporterKeyRow extends SchemaRow<ExporterKeyName, FieldPath, KeyDoc> {
  readonly appliesTo?: readonly ExporterKind[];
  readonly alias?: string;
}

export const EXPORTER_ROWS: readonly ExporterKeyRow[] = EXPORTER_SCHEMA;

type FieldWithoutRow = Exclude<FieldPath, (typeof EXPORTER_SCHEMA)[number]['field']>;
/** Fails to compile (naming the field) when a field of ExporterConfig has no row. */
export const SCHEMA_COVERS_EVERY_FIELD: [FieldWithoutRow] extends [never] ? true : FieldWithoutRow = true;

const ROW_BY_KEY = new Map(EXPORTER_ROWS.map((r) => [r.key as string, r]));

/** The row of `key` (as written, aliases resolved by the caller), or undefined for an unknown key. */
export function exporterRow(key: string): ExporterKeyRow | undefined {
  return ROW_BY_KEY.get(key);
}

/** The value of the field at `field` (a generic read; the rows checked the paths). */
export function readField(config: ExporterConfig, field: FieldPath): unknown {
  const [head = '', leaf] = field.split('.');
  const value: unknown = Reflect.get(config, head);
  if (leaf === undefined) return value;
  return isPlainObject(value) ? value[leaf] : undefined;
}

/** Sets the field at `field` of a config being built, creating its section. */
export function writeField(draft: Record<string, unknown>, field: FieldPath, value: unknown): void {
  const [head = '', leaf] = field.split('.');
  if (leaf === undefined) {
    draft[head] = value;
    return;
  }
  const section = draft[head];
  if (isPlainObject(section)) section[leaf] = value;
  else draft[head] = { [leaf]: value };
}

/** The default of `row` in `ctx`; undefined = no default (optional, or required for some kinds). */
export function defaultOf(row: ExporterKeyRow, ctx: DefaultContext): unknown {
  return typeof row.default === 'function'
    ? (row.default as (c: DefaultContext) => unknown)(ctx)
    : row.default;
}

export function defaultFor(key: ExporterKeyName, ctx: DefaultContext): unknown {
  const row = ROW_BY_KEY.get(key);
  return row ? defaultOf(row, ctx) : undefined;
}
