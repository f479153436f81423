import { existsSync } from 'node:fs';
import type { Logger, LogFormat, LogLevel } from '../observability/logger.js';
import { parseLogFormat, parseLogLevel } from '../observability/logger.js';
import { ConfigError, didYouMean } from './config-error.js';
import type { ConfigFile } from './config-file.js';
import {
  isPlainObject,
  K8S_POD_METADATA_KEY,
  LOG_FORMAT_KEY,
  LOG_LEVEL_KEY,
  readConfigFile,
  SECTION_KEY,
  SELECTION_KEY,
  TELEMETRY_ADDRESS_KEY,
} from './config-file.js';
import type { TelemetryAddress } from './telemetry-address.js';
import { parseTelemetryAddress } from './telemetry-address.js';
import {
  DEFAULT_GRPC_ENDPOINT,
  DEFAULT_HTTP_ENDPOINT,
  normaliseGrpcEndpoint,
  normaliseHttpEndpoint,
  type EndpointOrigin,
  type InsecureSetting,
} from './endpoint.js';
import type { OtlpEnv, OtlpProtocol } from './env-config.js';
import { grpcMetadataProblem, httpHeaderProblem } from './header-rules.js';
import { OTLP_PROTOCOLS, READ_ENV_VARIABLES, readOtlpEnv, readResourceEnv } from './env-config.js';
import type {
  BatchConfig,
  ExporterConfig,
  ExporterKind,
  QueueConfig,
  ResourceConfig,
  SampleConfig,
} from './exporter-config.js';
import type { RetryPolicy } from '../util/backoff.js';
import { DEFAULT_RETRY_POLICY } from '../util/backoff.js';
import type { ExporterSelection } from './exporter-selection.js';
import { IMPLICIT_SELECTION, parseExporterSelection, selectedExporterNames } from './exporter-selection.js';
import { durationLimitProblem } from './units.js';
import type { Setting, SettingMap, SettingSource, SettingValue } from './exporter-settings.js';
import {
  convertValue,
  EXPORTER_FIELDS,
  EXPORTER_KINDS,
  parseExporterSetting,
  parseExporterTree,
} from './exporter-settings.js';

/**
 * The one place where the configuration is assembled. Precedence, lowest to highest:
 *
 *   defaults < config file < OTEL_* environment < flags (--endpoint, --header, …) < --set
 *
 * - The file is IG's (`operator.otel-profiles.exporters.<name>`); see config-file.ts.
 * - The OTEL_EXPORTER_OTLP_* environment applies to every OTLP exporter (otlp-grpc, otlp-http).
 * - The exporter named `default` is used when no selection is given. If the file does not define
 *   it, it is built from the environment alone; the direct flags (--endpoint, --protocol,
 *   --insecure, --header, --compression, --timeout) configure this exporter only.
 * - `--set operator.otel-profiles.exporters.NAME.KEY=VALUE` overrides any key of any exporter.
 *
 * Every problem is collected and thrown as one ConfigError.
 */

/** Name of the exporter used without `--otel-profiles-exporter`, built from the environment. */
export const DEFAULT_EXPORTER_NAME = 'default';

/** Per-attempt timeout (OTLP spec default). */
export const DEFAULT_TIMEOUT_MS = 10_000;

/** 4 MiB fits the default receive limit of gRPC servers; 16,000 samples is Pyroscope's per-profile limit. */
export const DEFAULT_BATCH: BatchConfig = {
  intervalMs: 5_000,
  jitter: 0.2,
  maxRequestBytes: 4 * 1024 * 1024,
  maxSamplesPerProfile: 16_000,
  maxPendingSamples: 0,
};

/** Memory queue bounded at 64 MiB / 1000 requests, one request in flight (keeps order). */
export const DEFAULT_QUEUE: QueueConfig = { maxBytes: 64 * 1024 * 1024, maxRequests: 1_000, concurrency: 1 };

/** One resource per process; service.name from workload labels, then the workload, then the executable. */
export const DEFAULT_RESOURCE: ResourceConfig = {
  groupBy: 'process',
  serviceName: [
    'label:app.kubernetes.io/name',
    'label:app',
    'owner',
    'k8s.container.name',
    'container.name',
    'env',
    'process.executable.name',
  ],
  attributes: {},
};

/**
 * The service.name chain when pod metadata is on: what the container's SDK reports
 * (OTEL_SERVICE_NAME / OTEL_RESOURCE_ATTRIBUTES of its spec), then the semantic conventions'
 * Kubernetes chain; the rest serves processes no pod was found for (host processes, no API).
 */
export const K8S_POD_METADATA_SERVICE_NAME: readonly string[] = [
  'k8s.env',
  'k8s.semconv',
  ...DEFAULT_RESOURCE.serviceName,
];

export const DEFAULT_SAMPLES: SampleConfig = { merge: 'flush' };

/** Everything the command line contributes; the CLI fills it from its flags. */
export interface ConfigFlags {
  /** `--otel-profiles-exporter` (IG's syntax, see exporter-selection.ts). */
  readonly exporterSelection?: string;
  /** `--set operator.otel-profiles.exporters.NAME.KEY=VALUE` (also `operator.otel-profiles.log-level=…`), highest precedence. */
  readonly set?: readonly string[];
  /** The direct flags below configure the exporter `default` only. */
  readonly endpoint?: string;
  /** `grpc`, `http/protobuf` or `http/json`, like OTEL_EXPORTER_OTLP_PROTOCOL. */
  readonly protocol?: string;
  readonly insecure?: boolean;
  /** `NAME=VALUE` each. */
  readonly headers?: readonly string[];
  readonly compression?: string;
  /** Duration (`10s`, `500ms`, or milliseconds). */
  readonly timeout?: string;
  /** The flag `timeout` came from, as the user typed it (run/attach: `--otlp-timeout`); default `--timeout`. */
  readonly timeoutFlag?: string;
  readonly logLevel?: LogLevel;
  /** `--k8s-pod-metadata`. */
  readonly k8sPodMetadata?: boolean;
  /** `--log-format` (checked by the caller, like `--log-level`). */
  readonly logFormat?: LogFormat;
  /** `--telemetry-address HOST:PORT`, as typed. */
  readonly telemetryAddress?: string;
}

/** Environment variables of the process-level settings (the config keys of the same names). */
export const LOG_FORMAT_ENV = 'IG_OTEL_PROFILES_LOG_FORMAT';
export const TELEMETRY_ADDRESS_ENV = 'IG_OTEL_PROFILES_TELEMETRY_ADDRESS';

export interface LoadConfigInput {
  readonly configFile?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags: ConfigFlags;
  readonly logger: Logger;
}

export interface LoadedConfig {
  /** The exporters this run uses: those the selection names, resolved and validated, in selection order. */
  readonly exporters: ReadonlyMap<string, ExporterConfig>;
  readonly selection: ExporterSelection;
  readonly logLevel: LogLevel;
  /** Watch this node's pods for resource attributes (flag, --set, file; default off). */
  readonly k8sPodMetadata: boolean;
  readonly logFormat: LogFormat;
  /** Where /metrics, /healthz and /readyz listen; absent = off. */
  readonly telemetryAddress?: TelemetryAddress;
  /** OTEL_SERVICE_NAME (the `env` source of the service.name chain). */
  readonly serviceNameFromEnv?: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (also merged into every exporter's resource.attributes). */
  readonly resourceAttributesFromEnv: Readonly<Record<string, string>>;
  /** What was read, in precedence order, for --print-config; never contains header values. */
  readonly sources: readonly string[];
  /** Every exporter the configuration defines (file and --set), plus `default`; all were validated. */
  readonly configured: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const FLAG_LABELS = {
  endpoint: '--endpoint',
  protocol: '--protocol',
  insecure: '--insecure',
  headers: '--header',
  compression: '--compression',
  timeout: '--timeout',
} as const;

function prefixOf(name: string): string {
  return `${SECTION_KEY}.exporters.${name}`;
}

/** `where` a setting came from, for messages: names the key and its place. */
function describeSetting(name: string, key: string, source: SettingSource): string {
  switch (source.layer) {
    case 'file':
      return `${source.label}: ${prefixOf(name)}.${key}`;
    case 'set':
      return `--set ${prefixOf(name)}.${key}`;
    case 'env':
    case 'flag':
      return `${source.label} (exporter "${name}")`;
    case 'default':
      return `${prefixOf(name)}.${key} (default)`;
  }
}

/** Later layers win; map values (headers, resource.attributes) merge by entry. */
function mergeLayers(layers: readonly SettingMap[]): SettingMap {
  const out: SettingMap = new Map();
  for (const layer of layers) {
    for (const [key, setting] of layer) {
      const previous = out.get(key);
      if (EXPORTER_FIELDS[key]?.type === 'map' && previous) {
        out.set(key, {
          value: {
            ...(previous.value as Record<string, string>),
            ...(setting.value as Record<string, string>),
          },
          source: setting.source,
        });
      } else {
        out.set(key, setting);
      }
    }
  }
  return out;
}

interface SetFlags {
  readonly exporters: Map<string, SettingMap>;
  selection?: string;
  logLevel?: string;
  k8sPodMetadata?: string;
  logFormat?: string;
  telemetryAddress?: string;
}

/** Parses every `--set KEY=VALUE`; later items win over earlier ones. */
function parseSetFlags(items: readonly string[], problems: string[]): SetFlags {
  const out: SetFlags = { exporters: new Map() };
  const exportersPrefix = `${SECTION_KEY}.exporters.`;
  for (const item of items) {
    const eq = item.indexOf('=');
    const key = (eq === -1 ? item : item.slice(0, eq)).trim();
    const value = eq === -1 ? '' : item.slice(eq + 1);
    if (eq === -1) {
      problems.push(`--set ${key}: expected KEY=VALUE (e.g. --set ${exportersPrefix}prod.timeout=5s)`);
      continue;
    }
    if (key === `${SECTION_KEY}.${SELECTION_KEY}`) {
      out.selection = value;
      continue;
    }
    if (key === `${SECTION_KEY}.${LOG_LEVEL_KEY}`) {
      out.logLevel = value;
      continue;
    }
    if (key === `${SECTION_KEY}.${K8S_POD_METADATA_KEY}`) {
      out.k8sPodMetadata = value;
      continue;
    }
    if (key === `${SECTION_KEY}.${LOG_FORMAT_KEY}`) {
      out.logFormat = value;
      continue;
    }
    if (key === `${SECTION_KEY}.${TELEMETRY_ADDRESS_KEY}`) {
      out.telemetryAddress = value;
      continue;
    }
    if (!key.startsWith(exportersPrefix)) {
      const sectionKeys = [
        SELECTION_KEY,
        LOG_LEVEL_KEY,
        LOG_FORMAT_KEY,
        TELEMETRY_ADDRESS_KEY,
        K8S_POD_METADATA_KEY,
      ]
        .map((k) => `${SECTION_KEY}.${k}`)
        .join(', ');
      problems.push(`--set ${key}: only ${exportersPrefix}NAME.KEY and ${sectionKeys} can be set here`);
      continue;
    }
    const rest = key.slice(exportersPrefix.length);
    const dot = rest.indexOf('.');
    const name = dot === -1 ? rest : rest.slice(0, dot);
    if (dot === -1 || !/^[A-Za-z0-9_-]+$/.test(name)) {
      problems.push(
        `--set ${key}: expected ${exportersPrefix}NAME.KEY=VALUE (e.g. ${exportersPrefix}prod.endpoint=collector:4317)`,
      );
      continue;
    }
    const map = out.exporters.get(name) ?? new Map<string, Setting>();
    out.exporters.set(name, map);
    parseExporterSetting(map, rest.slice(dot + 1), value, {
      prefix: prefixOf(name),
      source: { layer: 'set', label: `--set ${key}` },
      problems,
    });
  }
  return out;
}

interface FlagLayer {
  readonly map: SettingMap;
  readonly protocol?: OtlpProtocol;
  /** The direct flags that were given, for messages and sources. */
  readonly given: readonly string[];
}

/** The direct flags (for the exporter `default`) as a setting layer. */
function parseDirectFlags(flags: ConfigFlags, problems: string[]): FlagLayer {
  const map: SettingMap = new Map();
  const given: string[] = [];
  const source = (label: string): SettingSource => ({ layer: 'flag', label });
  const convert = (key: string, raw: unknown, label: string): void => {
    const spec = EXPORTER_FIELDS[key];
    if (!spec) return;
    const converted = convertValue(spec, raw);
    if (!converted.ok) problems.push(`${label}: ${converted.problem}`);
    else if (converted.value !== undefined) map.set(key, { value: converted.value, source: source(label) });
  };
  let protocol: OtlpProtocol | undefined;
  if (flags.endpoint !== undefined) {
    given.push(FLAG_LABELS.endpoint);
    convert('endpoint', flags.endpoint, FLAG_LABELS.endpoint);
  }
  if (flags.protocol !== undefined) {
    given.push(FLAG_LABELS.protocol);
    const value = flags.protocol.trim().toLowerCase() as OtlpProtocol;
    if (OTLP_PROTOCOLS.includes(value)) protocol = value;
    else {
      problems.push(
        `--protocol ${JSON.stringify(flags.protocol)}: expected one of ${OTLP_PROTOCOLS.join(', ')}${didYouMean(flags.protocol, OTLP_PROTOCOLS)}`,
      );
    }
  }
  if (flags.insecure !== undefined) {
    given.push(FLAG_LABELS.insecure);
    map.set('insecure', { value: flags.insecure, source: source(FLAG_LABELS.insecure) });
  }
  if (flags.headers !== undefined && flags.headers.length > 0) {
    given.push(FLAG_LABELS.headers);
    const headers: Record<string, string> = {};
    flags.headers.forEach((item, i) => {
      const eq = item.indexOf('=');
      // Never echo the item: it may be a token pasted without its name.
      if (eq <= 0)
        problems.push(`--header #${i + 1}: expected NAME=VALUE (e.g. --header authorization="Bearer …")`);
      else headers[item.slice(0, eq).trim()] = item.slice(eq + 1);
    });
    if (Object.keys(headers).length > 0) convert('headers', headers, FLAG_LABELS.headers);
  }
  if (flags.compression !== undefined) {
    given.push(FLAG_LABELS.compression);
    convert('compression', flags.compression, FLAG_LABELS.compression);
  }
  if (flags.timeout !== undefined) {
    const label = flags.timeoutFlag ?? FLAG_LABELS.timeout;
    given.push(label);
    convert('timeout', flags.timeout, label);
  }
  return { map, given, ...(protocol !== undefined ? { protocol } : {}) };
}

/** The OTEL_EXPORTER_OTLP_* environment as a setting layer for an OTLP exporter of `kind`. */
function envLayer(env: OtlpEnv, kind: ExporterKind): SettingMap {
  const map: SettingMap = new Map();
  const put = (key: string, value: SettingValue | undefined, variable: string | undefined): void => {
    if (value !== undefined && variable !== undefined)
      map.set(key, { value, source: { layer: 'env', label: variable } });
  };
  put('endpoint', env.endpoint?.value, env.endpoint?.variable);
  put('headers', env.headers?.value, env.headers?.variable);
  put('timeout', env.timeoutMs?.value, env.timeoutMs?.variable);
  put('compression', env.compression?.value, env.compression?.variable);
  put('insecure', env.insecure?.value, env.insecure?.variable);
  put('tls.ca_file', env.certificate?.value, env.certificate?.variable);
  put('tls.key_file', env.clientKey?.value, env.clientKey?.variable);
  put('tls.cert_file', env.clientCertificate?.value, env.clientCertificate?.variable);
  if (kind === 'otlp-http' && env.protocol && env.protocol.value !== 'grpc') {
    put('protocol', env.protocol.value === 'http/json' ? 'json' : 'protobuf', env.protocol.variable);
  }
  return map;
}

function kindOfProtocol(protocol: OtlpProtocol): ExporterKind {
  return protocol === 'grpc' ? 'otlp-grpc' : 'otlp-http';
}

function endpointOrigin(setting: Setting): EndpointOrigin {
  if (setting.source.layer !== 'env') return 'config';
  return setting.source.label.includes('_PROFILES_') ? 'signal-env' : 'generic-env';
}

interface ResolveContext {
  readonly name: string;
  readonly merged: SettingMap;
  readonly kind: ExporterKind;
  /** The exporter is `default` built from the environment (spec default endpoints apply). */
  readonly envBuilt: boolean;
  readonly problems: string[];
  readonly logger: Logger;
  /** Pod metadata is on: the service.name chain defaults to K8S_POD_METADATA_SERVICE_NAME. */
  readonly k8sPodMetadata: boolean;
}

/** Turns merged settings into an ExporterConfig; adds problems for missing or conflicting values. */
function resolveExporter(ctx: ResolveContext): ExporterConfig | undefined {
  const { name, merged, kind, problems } = ctx;
  const before = problems.length;
  const get = <T extends SettingValue>(key: string): T | undefined => merged.get(key)?.value as T | undefined;
  const where = (key: string): string => {
    const setting = merged.get(key);
    return setting ? describeSetting(name, key, setting.source) : `${prefixOf(name)}.${key}`;
  };
  const isOtlp = kind === 'otlp-grpc' || kind === 'otlp-http';

  for (const [key, setting] of merged) {
    const applies = EXPORTER_FIELDS[key]?.appliesTo;
    if (
      applies &&
      !applies.includes(kind) &&
      (setting.source.layer === 'file' || setting.source.layer === 'set')
    ) {
      ctx.logger.warn(
        `${where(key)} is ignored: ${kind} exporters do not use it (it applies to ${applies.join(', ')})`,
      );
    }
  }

  let endpoint: string | undefined;
  let insecure = false;
  if (isOtlp) {
    const setting = merged.get('endpoint');
    const insecureSetting = merged.get('insecure');
    const insecureInput: InsecureSetting | undefined = insecureSetting
      ? { value: insecureSetting.value as boolean, explicit: insecureSetting.source.layer !== 'env' }
      : undefined;
    let raw = setting?.value as string | undefined;
    const givenEmpty =
      raw?.trim() === '' && (setting?.source.layer === 'flag' || setting?.source.layer === 'set');
    if (givenEmpty) {
      // Said on purpose, so falling back to localhost would hide the mistake (an unset variable, say).
      problems.push(
        `${where('endpoint')}: the endpoint is empty: give the collector's address ` +
          `(e.g. ${kind === 'otlp-grpc' ? 'collector:4317' : 'http://collector:4318'}), or leave it out for the default ` +
          `${kind === 'otlp-grpc' ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT}`,
      );
      raw = undefined;
    } else if (raw === undefined || raw.trim() === '') {
      if (ctx.envBuilt) raw = kind === 'otlp-grpc' ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT;
      else {
        problems.push(
          `endpoint required for ${kind} exporter (${prefixOf(name)}.endpoint: set it in the file, e.g. ` +
            `${kind === 'otlp-grpc' ? '"127.0.0.1:4317"' : '"http://127.0.0.1:4318"'}, or set OTEL_EXPORTER_OTLP_ENDPOINT)`,
        );
      }
    }
    if (raw !== undefined) {
      const result =
        kind === 'otlp-grpc'
          ? normaliseGrpcEndpoint(raw, insecureInput)
          : normaliseHttpEndpoint(raw, setting ? endpointOrigin(setting) : 'config', insecureInput);
      if (!result.ok) problems.push(`${where('endpoint')}: ${result.problem}`);
      else {
        endpoint = result.endpoint;
        insecure = result.insecure;
        for (const warning of result.warnings) ctx.logger.warn(`${where('endpoint')}: ${warning}`);
      }
    }
    const headerProblem = kind === 'otlp-grpc' ? grpcMetadataProblem : httpHeaderProblem;
    for (const [header, value] of Object.entries(get<Record<string, string>>('headers') ?? {})) {
      const problem = headerProblem(header, value);
      if (problem !== undefined) problems.push(`${where('headers')}: ${problem}`);
    }
    for (const key of ['tls.ca_file', 'tls.cert_file', 'tls.key_file']) {
      const path = get<string>(key);
      if (path !== undefined && !existsSync(path)) {
        problems.push(
          `${where(key)}: file ${JSON.stringify(path)} does not exist (fix the path, relative to ${process.cwd()}, or remove the setting)`,
        );
      }
    }
    if ((get('tls.cert_file') === undefined) !== (get('tls.key_file') === undefined)) {
      const missing = get('tls.cert_file') === undefined ? 'tls.cert_file' : 'tls.key_file';
      const present = missing === 'tls.cert_file' ? 'tls.key_file' : 'tls.cert_file';
      problems.push(
        `${where(present)}: mTLS needs both tls.cert_file and tls.key_file: set ${prefixOf(name)}.${missing} too`,
      );
    }
  }
  if (kind === 'file' && get('path') === undefined) {
    problems.push(
      `${prefixOf(name)}.path: required for the file exporter (a file such as profiles.jsonl, or - for stdout)`,
    );
  }
  if (kind === 'pprof' && get('directory') === undefined) {
    problems.push(
      `${prefixOf(name)}.directory: required for the pprof exporter (the directory the .pb.gz files go to)`,
    );
  }

  const retry: RetryPolicy = {
    enabled: get<boolean>('retry.enabled') ?? DEFAULT_RETRY_POLICY.enabled,
    initialIntervalMs: get<number>('retry.initial_interval') ?? DEFAULT_RETRY_POLICY.initialIntervalMs,
    multiplier: get<number>('retry.multiplier') ?? DEFAULT_RETRY_POLICY.multiplier,
    maxIntervalMs: get<number>('retry.max_interval') ?? DEFAULT_RETRY_POLICY.maxIntervalMs,
    maxElapsedMs: get<number>('retry.max_elapsed_time') ?? DEFAULT_RETRY_POLICY.maxElapsedMs,
    jitter: get<number>('retry.jitter') ?? DEFAULT_RETRY_POLICY.jitter,
  };
  if (retry.maxIntervalMs < retry.initialIntervalMs) {
    const key = merged.has('retry.max_interval') ? 'retry.max_interval' : 'retry.initial_interval';
    problems.push(
      `${where(key)}: retry.max_interval (${retry.maxIntervalMs} ms) is below retry.initial_interval ` +
        `(${retry.initialIntervalMs} ms): raise retry.max_interval or lower retry.initial_interval`,
    );
  }
  if (problems.length > before) return undefined;

  const tls = {
    ...(get<string>('tls.ca_file') !== undefined ? { caFile: get<string>('tls.ca_file') } : {}),
    ...(get<string>('tls.cert_file') !== undefined ? { certFile: get<string>('tls.cert_file') } : {}),
    ...(get<string>('tls.key_file') !== undefined ? { keyFile: get<string>('tls.key_file') } : {}),
    ...(get<string>('tls.server_name') !== undefined ? { serverName: get<string>('tls.server_name') } : {}),
  };
  const queueDirectory = get<string>('queue.directory');
  const path = get<string>('path');
  const directory = get<string>('directory');
  return {
    name,
    exporter: kind,
    ...(endpoint !== undefined ? { endpoint } : {}),
    insecure,
    compression: get<'gzip' | 'none'>('compression') ?? (isOtlp ? 'gzip' : 'none'),
    headers: get<Record<string, string>>('headers') ?? {},
    timeoutMs: get<number>('timeout') ?? DEFAULT_TIMEOUT_MS,
    tls,
    protocol: get<'protobuf' | 'json'>('protocol') ?? 'protobuf',
    jsonBytes: get<'hex' | 'base64'>('json_bytes') ?? 'hex',
    ...(path !== undefined ? { path } : {}),
    format: get<'json' | 'proto'>('format') ?? 'json',
    ...(directory !== undefined ? { directory } : {}),
    retry,
    batch: {
      intervalMs: get<number>('batch.interval') ?? DEFAULT_BATCH.intervalMs,
      jitter: get<number>('batch.jitter') ?? DEFAULT_BATCH.jitter,
      maxRequestBytes: get<number>('batch.max_request_size') ?? DEFAULT_BATCH.maxRequestBytes,
      maxSamplesPerProfile:
        get<number>('batch.max_samples_per_profile') ?? DEFAULT_BATCH.maxSamplesPerProfile,
      maxPendingSamples: get<number>('batch.max_pending_samples') ?? DEFAULT_BATCH.maxPendingSamples,
    },
    queue: {
      maxBytes: get<number>('queue.max_size') ?? DEFAULT_QUEUE.maxBytes,
      maxRequests: get<number>('queue.max_requests') ?? DEFAULT_QUEUE.maxRequests,
      concurrency: get<number>('queue.concurrency') ?? DEFAULT_QUEUE.concurrency,
      ...(queueDirectory !== undefined ? { directory: queueDirectory } : {}),
    },
    resource: {
      groupBy: get<'process' | 'container'>('resource.group_by') ?? DEFAULT_RESOURCE.groupBy,
      serviceName:
        get<readonly string[]>('resource.service_name') ??
        (ctx.k8sPodMetadata ? K8S_POD_METADATA_SERVICE_NAME : DEFAULT_RESOURCE.serviceName),
      attributes: get<Record<string, string>>('resource.attributes') ?? {},
    },
    samples: { merge: get<SampleConfig['merge']>('samples.merge') ?? DEFAULT_SAMPLES.merge },
  };
}

/**
 * A process-level setting of our section (not an exporter's): the flag, then `--set`, then its
 * environment variable, then the file. A bad value is a problem naming where it came from.
 */
function processSetting<T>(s: {
  readonly key: string;
  readonly envName: string;
  readonly flag: string | undefined;
  readonly set: string | undefined;
  readonly env: Env;
  readonly file: ConfigFile | undefined;
  readonly fileValue: string | undefined;
  readonly parse: (text: string) => { readonly value: T } | { readonly problem: string };
  readonly problems: string[];
}): T | undefined {
  const envText = s.env[s.envName]?.trim() ? s.env[s.envName] : undefined;
  const candidates: readonly [string | undefined, () => string][] = [
    [s.flag, () => `--${s.key}`],
    [s.set, () => `--set ${SECTION_KEY}.${s.key}`],
    [envText, () => s.envName],
    [
      s.fileValue,
      () => `${s.file?.locate([s.key]) ?? s.file?.path ?? 'config file'}: ${SECTION_KEY}.${s.key}`,
    ],
  ];
  for (const [text, where] of candidates) {
    if (text === undefined) continue;
    const parsed = s.parse(text);
    if ('problem' in parsed) {
      s.problems.push(`${where()}: ${parsed.problem}`);
      return undefined;
    }
    return parsed.value;
  }
  return undefined;
}

/** OTEL_LOG_LEVEL as our level (`verbose`/`all` → debug, `none` → error). */
function logLevelFromEnv(env: Env, logger: Logger): LogLevel | undefined {
  const text = env.OTEL_LOG_LEVEL?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === 'verbose' || text === 'all') return 'debug';
  if (text === 'none') return 'error';
  const level = parseLogLevel(text);
  if (level === undefined)
    logger.warn(`OTEL_LOG_LEVEL=${JSON.stringify(text)} ignored: expected error, warn, info or debug`);
  return level;
}

/**
 * Loads, merges and validates the configuration.
 * @throws ConfigError listing every problem found (file, env TLS paths, flags, selection, exporters).
 */
export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const { env, flags, logger } = input;
  const problems: string[] = [];
  const sources: string[] = ['defaults'];

  const file: ConfigFile | undefined =
    input.configFile !== undefined ? readConfigFile(input.configFile, env) : undefined;
  if (file) {
    sources.push(`file ${file.path}`);
    problems.push(...file.problems);
    for (const key of file.ignoredKeys)
      logger.warn(
        `${file.locate([key.split('.').pop() ?? ''], 'key') ?? file.path}: ${key} is not ours: ignored`,
      );
  }
  for (const name of [...READ_ENV_VARIABLES, 'OTEL_LOG_LEVEL', LOG_FORMAT_ENV, TELEMETRY_ADDRESS_ENV])
    if (env[name]?.trim()) sources.push(`env ${name}`);
  const setFlags = parseSetFlags(flags.set ?? [], problems);
  const direct = parseDirectFlags(flags, problems);
  sources.push(...direct.given);
  for (const item of flags.set ?? []) sources.push(`--set ${item.split('=')[0] ?? item}`);

  // Selection: flag > --set > file > implicit `default`.
  let selection: ExporterSelection = IMPLICIT_SELECTION;
  const selectionText = flags.exporterSelection ?? setFlags.selection ?? file?.selection;
  if (selectionText !== undefined) {
    const origin =
      flags.exporterSelection !== undefined
        ? '--otel-profiles-exporter'
        : setFlags.selection !== undefined
          ? `--set ${SECTION_KEY}.${SELECTION_KEY}`
          : `${file?.locate([SELECTION_KEY]) ?? ''}: ${SECTION_KEY}.${SELECTION_KEY}`;
    try {
      selection = parseExporterSelection(selectionText, origin);
      if (flags.exporterSelection !== undefined) sources.push(`--otel-profiles-exporter ${selectionText}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      problems.push(...err.problems);
    }
  }
  const selected = selectedExporterNames(selection);
  let setPodMetadata: boolean | undefined;
  if (setFlags.k8sPodMetadata !== undefined) {
    if (setFlags.k8sPodMetadata === 'true' || setFlags.k8sPodMetadata === 'false')
      setPodMetadata = setFlags.k8sPodMetadata === 'true';
    else
      problems.push(
        `--set ${SECTION_KEY}.${K8S_POD_METADATA_KEY}=${setFlags.k8sPodMetadata}: expected true or false`,
      );
  }
  const k8sPodMetadata = flags.k8sPodMetadata ?? setPodMetadata ?? file?.k8sPodMetadata ?? false;
  if (
    selectionText === undefined &&
    file &&
    file.exporters.size > 0 &&
    !file.exporters.has(DEFAULT_EXPORTER_NAME)
  ) {
    logger.info(
      `${file.path} defines ${[...file.exporters.keys()].join(', ')} but no exporter is selected: using "${DEFAULT_EXPORTER_NAME}" ` +
        `(built from OTEL_EXPORTER_OTLP_*); select one with --otel-profiles-exporter ${[...file.exporters.keys()][0] ?? 'NAME'}`,
    );
  }

  const otlpEnv = readOtlpEnv(env, logger);
  // Checked once, not per exporter built from it, so the message is not repeated.
  const envTimeoutTooLong =
    otlpEnv.timeoutMs !== undefined ? durationLimitProblem(otlpEnv.timeoutMs.value) : undefined;
  let envTimeoutReported = false;
  const resourceEnv = readResourceEnv(env, logger);

  const defined: string[] = [...(file?.exporters.keys() ?? [])];
  for (const name of setFlags.exporters.keys()) if (!defined.includes(name)) defined.push(name);
  const configured = defined.includes(DEFAULT_EXPORTER_NAME) ? defined : [...defined, DEFAULT_EXPORTER_NAME];

  for (const name of selected) {
    if (configured.includes(name)) continue;
    const where = file
      ? file.path
      : `a config file passed with --config, or with --set ${prefixOf(name)}.exporter=KIND (${EXPORTER_KINDS.join(' | ')})`;
    problems.push(
      `exporter "${name}" is not configured: define ${prefixOf(name)} in ${where}` +
        ` (configured: ${configured.join(', ')})${didYouMean(name, configured)}`,
    );
  }
  if (direct.given.length > 0 && !selected.includes(DEFAULT_EXPORTER_NAME)) {
    const target = selected[0] ?? 'NAME';
    problems.push(
      `${direct.given.join(', ')} ${direct.given.length === 1 ? 'configures' : 'configure'} the exporter "${DEFAULT_EXPORTER_NAME}" (built from OTEL_EXPORTER_OTLP_* and these flags), ` +
        `which the selection ${JSON.stringify(selection.text)} does not use: select it, or set the exporter you use with ` +
        `--set ${prefixOf(target)}.KEY=VALUE`,
    );
  }

  const toResolve = [...defined];
  if (!toResolve.includes(DEFAULT_EXPORTER_NAME) && selected.includes(DEFAULT_EXPORTER_NAME))
    toResolve.push(DEFAULT_EXPORTER_NAME);

  const resolved = new Map<string, ExporterConfig>();
  for (const name of toResolve) {
    const fileLayer = file?.exporters.has(name)
      ? parseExporterTree(file.exporters.get(name), {
          prefix: prefixOf(name),
          source: { layer: 'file', label: file.path },
          problems,
          locate: (keys, at) => file.locate(['exporters', name, ...keys], at),
        })
      : new Map<string, Setting>();
    const setLayer = setFlags.exporters.get(name) ?? new Map<string, Setting>();
    const isDefault = name === DEFAULT_EXPORTER_NAME;
    const declared = setLayer.get('exporter') ?? fileLayer.get('exporter');

    let kind: ExporterKind;
    let envBuilt = false;
    const protocolLayer: SettingMap = new Map();
    if (declared) {
      kind = declared.value as ExporterKind;
      if (isDefault && direct.protocol && kindOfProtocol(direct.protocol) !== kind) {
        problems.push(
          `--protocol ${direct.protocol} contradicts ${describeSetting(name, 'exporter', declared.source)}: ${kind} ` +
            `(drop --protocol, or change the exporter kind)`,
        );
        continue;
      }
    } else if (isDefault) {
      envBuilt = true;
      const protocol = direct.protocol ?? otlpEnv.protocol?.value ?? 'http/protobuf';
      kind = kindOfProtocol(protocol);
    } else {
      // An invalid `exporter:` value was already reported by the layer parser.
      const rawFile = file?.exporters.get(name);
      const attempted =
        (isPlainObject(rawFile) && rawFile.exporter !== undefined && rawFile.exporter !== null) ||
        (flags.set ?? []).some((item) => item.startsWith(`${prefixOf(name)}.exporter=`));
      if (!attempted) {
        const loc = file?.locate(['exporters', name], 'key');
        problems.push(
          `${loc ? `${loc}: ` : ''}${prefixOf(name)}.exporter: required (one of: ${EXPORTER_KINDS.join(', ')})`,
        );
      }
      continue;
    }
    if (isDefault && direct.protocol && kind === 'otlp-http') {
      protocolLayer.set('protocol', {
        value: direct.protocol === 'http/json' ? 'json' : 'protobuf',
        source: { layer: 'flag', label: FLAG_LABELS.protocol },
      });
    }

    const isOtlp = kind === 'otlp-grpc' || kind === 'otlp-http';
    const envSettings = isOtlp ? envLayer(otlpEnv, kind) : new Map<string, Setting>();
    if (isOtlp && envTimeoutTooLong !== undefined && otlpEnv.timeoutMs && !envTimeoutReported) {
      envTimeoutReported = true;
      const { variable } = otlpEnv.timeoutMs;
      problems.push(
        `${variable}=${env[variable] ?? ''}: ${envTimeoutTooLong} (the value is milliseconds, e.g. 10000; 0 = no limit)`,
      );
    }
    if (isOtlp && !envBuilt && otlpEnv.protocol?.value === 'grpc' && kind === 'otlp-http') {
      logger.debug(
        `${otlpEnv.protocol.variable}=grpc does not change exporter "${name}" (its kind is ${kind} in the file)`,
      );
    }
    const resourceLayer: SettingMap = new Map();
    if (Object.keys(resourceEnv.attributes).length > 0) {
      resourceLayer.set('resource.attributes', {
        value: resourceEnv.attributes,
        source: { layer: 'env', label: 'OTEL_RESOURCE_ATTRIBUTES' },
      });
    }
    if (selected.includes(name)) {
      for (const [key, setting] of envSettings) {
        const overridden = fileLayer.get(key);
        if (overridden)
          logger.info(`${setting.source.label} overrides ${describeSetting(name, key, overridden.source)}`);
      }
    }
    const merged = mergeLayers([
      fileLayer,
      envSettings,
      resourceLayer,
      ...(isDefault ? [direct.map, protocolLayer] : []),
      setLayer,
    ]);
    const exporter = resolveExporter({ name, merged, kind, envBuilt, problems, logger, k8sPodMetadata });
    if (exporter) resolved.set(name, exporter);
  }

  const levelText = setFlags.logLevel;
  let setLevel: LogLevel | undefined;
  if (levelText !== undefined) {
    setLevel = parseLogLevel(levelText);
    if (setLevel === undefined)
      problems.push(
        `--set ${SECTION_KEY}.${LOG_LEVEL_KEY}=${levelText}: expected error, warn, info or debug`,
      );
  }
  let fileLevel: LogLevel | undefined;
  if (file?.logLevel !== undefined) {
    fileLevel = parseLogLevel(file.logLevel);
    if (fileLevel === undefined) {
      problems.push(
        `${file.locate([LOG_LEVEL_KEY]) ?? file.path}: ${SECTION_KEY}.${LOG_LEVEL_KEY}: ${JSON.stringify(file.logLevel)} is not valid (one of: error, warn, info, debug)`,
      );
    }
  }
  const logLevel = flags.logLevel ?? setLevel ?? logLevelFromEnv(env, logger) ?? fileLevel ?? 'info';
  const logFormat =
    processSetting({
      key: LOG_FORMAT_KEY,
      envName: LOG_FORMAT_ENV,
      flag: flags.logFormat,
      set: setFlags.logFormat,
      env,
      file,
      fileValue: file?.logFormat,
      parse: (text) => {
        const format = parseLogFormat(text);
        return format !== undefined
          ? { value: format }
          : { problem: `${JSON.stringify(text)} is not valid (one of: text, json)` };
      },
      problems,
    }) ?? 'text';
  const telemetryAddress = processSetting({
    key: TELEMETRY_ADDRESS_KEY,
    envName: TELEMETRY_ADDRESS_ENV,
    flag: flags.telemetryAddress,
    set: setFlags.telemetryAddress,
    env,
    file,
    fileValue: file?.telemetryAddress,
    parse: (text) => {
      const address = parseTelemetryAddress(text);
      return typeof address === 'string' ? { problem: address } : { value: address };
    },
    problems,
  });

  if (problems.length > 0) throw new ConfigError(problems);

  const exporters = new Map<string, ExporterConfig>();
  for (const name of selected) {
    const exporter = resolved.get(name);
    if (exporter) exporters.set(name, exporter);
  }
  return {
    exporters,
    selection,
    logLevel,
    k8sPodMetadata,
    logFormat,
    ...(telemetryAddress !== undefined ? { telemetryAddress } : {}),
    ...(resourceEnv.serviceName !== undefined ? { serviceNameFromEnv: resourceEnv.serviceName } : {}),
    resourceAttributesFromEnv: resourceEnv.attributes,
    sources,
    configured,
  };
}
