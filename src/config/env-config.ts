import type { Logger } from '../observability/logger.js';

/**
 * The OTLP exporter environment (`OTEL_EXPORTER_OTLP_*`, with the profiles signal's
 * `OTEL_EXPORTER_OTLP_PROFILES_*` winning over the generic variable) and the resource
 * environment (`OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), read as the OTel spec says:
 * empty = unset, timeouts are integer milliseconds, booleans are true only for `true`
 * (any case), malformed values are warned about and ignored. Header values are never logged.
 */

/** Signal id in the per-signal variable names (the spec's naming pattern; opentelemetry.io documents it). */
const SIGNAL = 'PROFILES';

/** Option suffixes of OTEL_EXPORTER_OTLP_[PROFILES_]<option> that we read. */
const OPTIONS = [
  'ENDPOINT',
  'HEADERS',
  'TIMEOUT',
  'PROTOCOL',
  'COMPRESSION',
  'INSECURE',
  'CERTIFICATE',
  'CLIENT_KEY',
  'CLIENT_CERTIFICATE',
] as const;

/** Every environment variable this module reads. */
export const READ_ENV_VARIABLES: readonly string[] = [
  ...OPTIONS.flatMap((o) => [`OTEL_EXPORTER_OTLP_${o}`, `OTEL_EXPORTER_OTLP_${SIGNAL}_${o}`]),
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
];

export type OtlpProtocol = 'grpc' | 'http/protobuf' | 'http/json';
export const OTLP_PROTOCOLS: readonly OtlpProtocol[] = ['grpc', 'http/protobuf', 'http/json'];

/** A value with the variable it came from, so messages can name it. */
export interface EnvValue<T> {
  readonly value: T;
  readonly variable: string;
}

export interface OtlpEnv {
  /** `perSignal`: from `…_PROFILES_ENDPOINT` (a full URL for HTTP) rather than the generic base URL. */
  readonly endpoint?: EnvValue<string> & { readonly perSignal: boolean };
  /** Generic and per-signal headers merged by name, the per-signal value winning. */
  readonly headers?: EnvValue<Readonly<Record<string, string>>>;
  readonly timeoutMs?: EnvValue<number>;
  readonly protocol?: EnvValue<OtlpProtocol>;
  readonly compression?: EnvValue<'gzip' | 'none'>;
  readonly insecure?: EnvValue<boolean>;
  readonly certificate?: EnvValue<string>;
  readonly clientKey?: EnvValue<string>;
  readonly clientCertificate?: EnvValue<string>;
}

export interface ResourceEnv {
  /** OTEL_SERVICE_NAME. */
  readonly serviceName?: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded; empty when unset or discarded. */
  readonly attributes: Readonly<Record<string, string>>;
}

type Env = Readonly<Record<string, string | undefined>>;

/** `OTEL_EXPORTER_OTLP_PROFILES_<option>` if set and non-empty, else `OTEL_EXPORTER_OTLP_<option>`. */
function pick(env: Env, option: (typeof OPTIONS)[number]): EnvValue<string> | undefined {
  for (const variable of [`OTEL_EXPORTER_OTLP_${SIGNAL}_${option}`, `OTEL_EXPORTER_OTLP_${option}`]) {
    const value = env[variable]?.trim();
    if (value) return { value, variable };
  }
  return undefined;
}

export type KeyValueListResult =
  | { readonly ok: true; readonly entries: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly problem: string };

/**
 * Parses a W3C-baggage-like `k1=v1,k2=v2` list with percent-decoding of keys and values and
 * whitespace trimmed around them. Fails on the first malformed entry; the problem names the entry
 * by position and key only, never the value.
 */
export function parseKeyValueList(text: string): KeyValueListResult {
  const entries: Record<string, string> = {};
  const items = text.split(',');
  for (let i = 0; i < items.length; i++) {
    const item = (items[i] ?? '').trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq <= 0) return { ok: false, problem: `entry ${i + 1} is not key=value` };
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(item.slice(0, eq).trim());
    } catch {
      return { ok: false, problem: `entry ${i + 1}: the key is not validly percent-encoded` };
    }
    try {
      value = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      return { ok: false, problem: `entry ${i + 1} (${key}): the value is not validly percent-encoded` };
    }
    if (key === '') return { ok: false, problem: `entry ${i + 1} has an empty key` };
    entries[key] = value;
  }
  return { ok: true, entries };
}

/** Reads every OTEL_EXPORTER_OTLP_* option; invalid values are logged as warnings and ignored. */
export function readOtlpEnv(env: Env, logger: Logger): OtlpEnv {
  const out: {
    -readonly [K in keyof OtlpEnv]: OtlpEnv[K];
  } = {};

  const endpoint = pick(env, 'ENDPOINT');
  if (endpoint) out.endpoint = { ...endpoint, perSignal: endpoint.variable.includes(`_${SIGNAL}_`) };

  const headers: Record<string, string> = {};
  const headerVariables: string[] = [];
  // Generic first, then per-signal, so the per-signal value wins for the same name.
  for (const variable of ['OTEL_EXPORTER_OTLP_HEADERS', `OTEL_EXPORTER_OTLP_${SIGNAL}_HEADERS`]) {
    const text = env[variable]?.trim();
    if (!text) continue;
    const parsed = parseKeyValueList(text);
    if (!parsed.ok) {
      logger.warn(
        `${variable} ignored: ${parsed.problem} (expected name=value,name2=value2, values percent-encoded)`,
      );
      continue;
    }
    Object.assign(headers, parsed.entries);
    headerVariables.push(variable);
  }
  if (headerVariables.length) out.headers = { value: headers, variable: headerVariables.join(' + ') };

  const timeout = pick(env, 'TIMEOUT');
  if (timeout) {
    if (/^-\d+$/.test(timeout.value)) {
      logger.warn(`${timeout.variable}=${timeout.value} is negative: using the default timeout`);
    } else if (!/^\d+$/.test(timeout.value)) {
      logger.warn(
        `${timeout.variable}=${JSON.stringify(timeout.value)} is not an integer number of milliseconds: ignored`,
      );
    } else {
      out.timeoutMs = { value: Number(timeout.value), variable: timeout.variable };
    }
  }

  const protocol = pick(env, 'PROTOCOL');
  if (protocol) {
    const value = protocol.value.toLowerCase() as OtlpProtocol;
    if (OTLP_PROTOCOLS.includes(value)) out.protocol = { value, variable: protocol.variable };
    else
      logger.warn(
        `${protocol.variable}=${JSON.stringify(protocol.value)} ignored: expected ${OTLP_PROTOCOLS.join(', ')}`,
      );
  }

  const compression = pick(env, 'COMPRESSION');
  if (compression) {
    const value = compression.value.toLowerCase();
    if (value === 'gzip' || value === 'none') out.compression = { value, variable: compression.variable };
    else
      logger.warn(
        `${compression.variable}=${JSON.stringify(compression.value)} ignored: expected gzip or none`,
      );
  }

  const insecure = pick(env, 'INSECURE');
  if (insecure) {
    const lower = insecure.value.toLowerCase();
    if (lower !== 'true' && lower !== 'false') {
      logger.warn(
        `${insecure.variable}=${JSON.stringify(insecure.value)} is not true or false: taken as false`,
      );
    }
    out.insecure = { value: lower === 'true', variable: insecure.variable };
  }

  const certificate = pick(env, 'CERTIFICATE');
  if (certificate) out.certificate = certificate;
  const clientKey = pick(env, 'CLIENT_KEY');
  if (clientKey) out.clientKey = clientKey;
  const clientCertificate = pick(env, 'CLIENT_CERTIFICATE');
  if (clientCertificate) out.clientCertificate = clientCertificate;
  return out;
}

/**
 * Reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. A malformed OTEL_RESOURCE_ATTRIBUTES is
 * discarded as a whole with an error log, as the resource SDK spec says.
 */
export function readResourceEnv(env: Env, logger: Logger): ResourceEnv {
  const serviceName = env.OTEL_SERVICE_NAME?.trim() || undefined;
  let attributes: Readonly<Record<string, string>> = {};
  const text = env.OTEL_RESOURCE_ATTRIBUTES?.trim();
  if (text) {
    const parsed = parseKeyValueList(text);
    if (parsed.ok) attributes = parsed.entries;
    else {
      logger.error(
        `OTEL_RESOURCE_ATTRIBUTES discarded: ${parsed.problem} ` +
          `(expected key=value,key2=value2 with "," "=" "%" percent-encoded, e.g. team=a%2Cb)`,
      );
    }
  }
  return { ...(serviceName !== undefined ? { serviceName } : {}), attributes };
}
