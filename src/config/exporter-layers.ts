import { didYouMean } from './config-error.js';
import type { ConfigFile } from './config-file.js';
import type { OtlpEnv, OtlpProtocol } from './env-config.js';
import { OTLP_PROTOCOLS } from './env-config.js';
import type { ExporterKind } from './exporter-config.js';
import type { ExporterKeyName } from './exporter-schema.js';
import type { Setting, SettingMap, SettingSource } from './exporter-settings.js';
import { emptyLayer, exporterPrefix, parseExporterTree, setFromRaw } from './exporter-settings.js';

/**
 * The layers of one exporter's settings besides the defaults (exporter-settings.ts defaultLayer)
 * and `--set` (set-flags.ts): the config file, the OTEL_* environment and the direct flags. Each
 * builder has one source; load-config.ts merges them in precedence order.
 */

/** The `exporters.<name>` mapping of the file, parsed; empty when the file does not define it. */
export function fileLayer(file: ConfigFile | undefined, name: string, problems: string[]): SettingMap {
  if (!file?.exporters.has(name)) return emptyLayer();
  return parseExporterTree(file.exporters.get(name), {
    prefix: exporterPrefix(name),
    source: { layer: 'file', label: file.path },
    problems,
    locate: (keys, at) => file.locate(['exporters', name, ...keys], at),
  });
}

/** The OTEL_EXPORTER_OTLP_* environment for an OTLP exporter of `kind` (env-config.ts read and checked it). */
export function envLayer(env: OtlpEnv, kind: ExporterKind): SettingMap {
  const map: SettingMap = new Map();
  const put = (
    key: ExporterKeyName,
    from: { readonly value: unknown; readonly variable: string } | undefined,
  ): void => {
    if (from !== undefined)
      map.set(key, { value: from.value, source: { layer: 'env', label: from.variable } });
  };
  put('endpoint', env.endpoint);
  put('headers', env.headers);
  put('timeout', env.timeoutMs);
  put('compression', env.compression);
  put('insecure', env.insecure);
  put('tls.ca_file', env.certificate);
  put('tls.key_file', env.clientKey);
  put('tls.cert_file', env.clientCertificate);
  if (kind === 'otlp-http' && env.protocol && env.protocol.value !== 'grpc') {
    put('protocol', { value: bodyEncoding(env.protocol.value), variable: env.protocol.variable });
  }
  return map;
}

/** OTEL_RESOURCE_ATTRIBUTES (decoded) as `resource.attributes`, merged by entry over the file's. */
export function resourceEnvLayer(attributes: Readonly<Record<string, string>>): SettingMap {
  const map: SettingMap = new Map();
  if (Object.keys(attributes).length > 0) {
    map.set('resource.attributes', {
      value: attributes,
      source: { layer: 'env', label: 'OTEL_RESOURCE_ATTRIBUTES' },
    });
  }
  return map;
}

/** `grpc` → otlp-grpc, `http/*` → otlp-http. */
export function kindOfProtocol(protocol: OtlpProtocol): ExporterKind {
  return protocol === 'grpc' ? 'otlp-grpc' : 'otlp-http';
}

function bodyEncoding(protocol: 'http/protobuf' | 'http/json'): 'protobuf' | 'json' {
  return protocol === 'http/json' ? 'json' : 'protobuf';
}

/** The direct flags; they configure the exporter `default` only. */
export interface DirectFlags {
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
}

const FLAG_LABELS = {
  endpoint: '--endpoint',
  protocol: '--protocol',
  insecure: '--insecure',
  headers: '--header',
  compression: '--compression',
  timeout: '--timeout',
} as const;

export interface FlagLayer {
  readonly map: SettingMap;
  /** `--protocol`: picks the kind of `default` (and `protocol` of an otlp-http one). */
  readonly protocol?: OtlpProtocol;
  /** The direct flags that were given, for messages and sources. */
  readonly given: readonly string[];
}

/** The direct flags as a setting layer (for the exporter `default`). */
export function flagLayer(flags: DirectFlags, problems: string[]): FlagLayer {
  const map: SettingMap = new Map();
  const given: string[] = [];
  const convert = (key: ExporterKeyName, raw: unknown, label: string): void => {
    given.push(label);
    setFromRaw(map, key, raw, { layer: 'flag', label }, problems);
  };
  let protocol: OtlpProtocol | undefined;
  if (flags.endpoint !== undefined) convert('endpoint', flags.endpoint, FLAG_LABELS.endpoint);
  if (flags.protocol !== undefined) {
    given.push(FLAG_LABELS.protocol);
    const value = flags.protocol.trim().toLowerCase();
    protocol = OTLP_PROTOCOLS.find((p) => p === value);
    if (protocol === undefined) {
      problems.push(
        `--protocol ${JSON.stringify(flags.protocol)}: expected one of ${OTLP_PROTOCOLS.join(', ')}${didYouMean(flags.protocol, OTLP_PROTOCOLS)}`,
      );
    }
  }
  if (flags.insecure !== undefined) convert('insecure', flags.insecure, FLAG_LABELS.insecure);
  if (flags.headers !== undefined && flags.headers.length > 0) {
    const headers: Record<string, string> = {};
    flags.headers.forEach((item, i) => {
      const eq = item.indexOf('=');
      // Never echo the item: it may be a token pasted without its name.
      if (eq <= 0)
        problems.push(`--header #${i + 1}: expected NAME=VALUE (e.g. --header authorization="Bearer …")`);
      else headers[item.slice(0, eq).trim()] = item.slice(eq + 1);
    });
    if (Object.keys(headers).length > 0) convert('headers', headers, FLAG_LABELS.headers);
    else given.push(FLAG_LABELS.headers);
  }
  if (flags.compression !== undefined) convert('compression', flags.compression, FLAG_LABELS.compression);
  if (flags.timeout !== undefined)
    convert('timeout', flags.timeout, flags.timeoutFlag ?? FLAG_LABELS.timeout);
  return { map, given, ...(protocol !== undefined ? { protocol } : {}) };
}

/** `--protocol http/json` or `http/protobuf` sets `protocol` of an otlp-http `default`. */
export function protocolFlagLayer(protocol: OtlpProtocol | undefined, kind: ExporterKind): SettingMap {
  const map = new Map<ExporterKeyName, Setting>();
  if (protocol !== undefined && protocol !== 'grpc' && kind === 'otlp-http') {
    const source: SettingSource = { layer: 'flag', label: FLAG_LABELS.protocol };
    map.set('protocol', { value: bodyEncoding(protocol), source });
  }
  return map;
}
