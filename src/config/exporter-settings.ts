import type { ExporterKind } from './exporter-config.js';
import { didYouMean } from './config-error.js';
import { isPlainObject } from './config-file.js';
import { durationLimitProblem, parseDurationMs, parseSizeBytes } from './units.js';
import { isServiceNameSource, SERVICE_NAME_SOURCES } from './service-name-sources.js';

/**
 * The settings of one exporter as flat dotted keys (`retry.max_elapsed_time`), the same keys in
 * the YAML file (nested) and in `--set operator.otel-profiles.exporters.NAME.<key>=VALUE`. Each
 * layer (defaults, file, env, flags, --set) parses into a `SettingMap`; load-config.ts merges them.
 * Every setting remembers its source so messages can say where a value came from.
 */

export const EXPORTER_KINDS: readonly ExporterKind[] = ['otlp-grpc', 'otlp-http', 'file', 'pprof', 'debug'];
const OTLP: readonly ExporterKind[] = ['otlp-grpc', 'otlp-http'];

/** Largest request the OTLP spec lets a client send (before compression). */
export const MAX_REQUEST_SIZE_LIMIT = 64 * 1024 * 1024;

export type SettingValue = string | number | boolean | readonly string[] | Readonly<Record<string, string>>;

export interface SettingSource {
  readonly layer: 'default' | 'file' | 'env' | 'flag' | 'set';
  /** Human name of the place: `config.yaml:12:7`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `--endpoint`, `--set …`. */
  readonly label: string;
}

export interface Setting {
  readonly value: SettingValue;
  readonly source: SettingSource;
}

/** Flat key → setting. */
export type SettingMap = Map<string, Setting>;

type FieldType =
  | { readonly type: 'string' }
  | { readonly type: 'boolean' }
  | { readonly type: 'duration'; readonly examples: string; readonly positive?: boolean }
  | { readonly type: 'size'; readonly min: number; readonly max?: number }
  | { readonly type: 'int'; readonly min: number }
  | { readonly type: 'number'; readonly min: number; readonly max?: number; readonly examples: string }
  | { readonly type: 'enum'; readonly values: readonly string[]; readonly emptyIsUnset?: boolean }
  | { readonly type: 'map' }
  | { readonly type: 'service-name-list' };

export type FieldSpec = FieldType & {
  /** Exporter kinds that use the key; others warn that it is ignored. Unset = all kinds. */
  readonly appliesTo?: readonly ExporterKind[];
};

/** Every key an exporter accepts (flat). Documented in docs/configuration.md. */
export const EXPORTER_FIELDS: Readonly<Record<string, FieldSpec>> = {
  exporter: { type: 'enum', values: EXPORTER_KINDS },
  endpoint: { type: 'string', appliesTo: OTLP },
  insecure: { type: 'boolean', appliesTo: OTLP },
  compression: { type: 'enum', values: ['none', 'gzip'], emptyIsUnset: true, appliesTo: OTLP },
  headers: { type: 'map', appliesTo: OTLP },
  timeout: { type: 'duration', examples: '10s, 500ms; 0 = no limit' },
  protocol: { type: 'enum', values: ['protobuf', 'json'], appliesTo: ['otlp-http'] },
  json_bytes: { type: 'enum', values: ['hex', 'base64'], appliesTo: ['otlp-http'] },
  'tls.ca_file': { type: 'string', appliesTo: OTLP },
  'tls.cert_file': { type: 'string', appliesTo: OTLP },
  'tls.key_file': { type: 'string', appliesTo: OTLP },
  'tls.server_name': { type: 'string', appliesTo: OTLP },
  'retry.enabled': { type: 'boolean' },
  'retry.initial_interval': { type: 'duration', examples: '5s, 500ms', positive: true },
  'retry.multiplier': { type: 'number', min: 1, examples: '1.5; at least 1' },
  'retry.max_interval': { type: 'duration', examples: '30s, 1m', positive: true },
  'retry.max_elapsed_time': { type: 'duration', examples: '30s, 5m, 0 = retry forever' },
  'retry.jitter': { type: 'number', min: 0, max: 1, examples: '0.2 for ±20%; between 0 and 1' },
  'batch.interval': { type: 'duration', examples: '5s, 1m', positive: true },
  'batch.jitter': { type: 'number', min: 0, max: 1, examples: '0.2 for ±20%; between 0 and 1' },
  'batch.max_request_size': { type: 'size', min: 1024, max: MAX_REQUEST_SIZE_LIMIT },
  'batch.max_samples_per_profile': { type: 'int', min: 1 },
  'batch.max_pending_samples': { type: 'int', min: 0 },
  'queue.directory': { type: 'string' },
  'queue.max_size': { type: 'size', min: 1 },
  'queue.max_requests': { type: 'int', min: 1 },
  'queue.concurrency': { type: 'int', min: 1 },
  'resource.group_by': { type: 'enum', values: ['process', 'container'] },
  'resource.service_name': { type: 'service-name-list' },
  'resource.attributes': { type: 'map' },
  'samples.merge': { type: 'enum', values: ['flush', 'per-fetch', 'identity'] },
  path: { type: 'string', appliesTo: ['file'] },
  format: { type: 'enum', values: ['json', 'proto'], appliesTo: ['file'] },
  directory: { type: 'string', appliesTo: ['pprof'] },
};

/** Accepted spellings that mean another key. */
export const KEY_ALIASES: Readonly<Record<string, string>> = { 'queue.max_bytes': 'queue.max_size' };

const SECTIONS = new Set(
  Object.keys(EXPORTER_FIELDS).flatMap((k) => (k.includes('.') ? [k.split('.')[0] ?? ''] : [])),
);
const MAP_KEYS = Object.keys(EXPORTER_FIELDS).filter((k) => EXPORTER_FIELDS[k]?.type === 'map');

export interface ParseContext {
  /** `operator.otel-profiles.exporters.<name>`. */
  readonly prefix: string;
  readonly source: SettingSource;
  readonly problems: string[];
  /** Where a key is in the file (file:line:col), for messages; file layer only. */
  readonly locate?: (keys: readonly string[], at?: 'value' | 'key') => string | undefined;
}

function describe(ctx: ParseContext, keys: readonly string[], at: 'value' | 'key' = 'value'): string {
  const full = `${ctx.prefix}.${keys.join('.')}`;
  if (ctx.source.layer === 'set') return `--set ${full}`;
  const loc = ctx.locate?.(keys, at);
  return loc ? `${loc}: ${full}` : full;
}

function show(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value)
    : Array.isArray(value)
      ? 'a list'
      : isPlainObject(value)
        ? 'a mapping'
        : String(value);
}

type Converted =
  | { readonly ok: true; readonly value: SettingValue | undefined }
  | { readonly ok: false; readonly problem: string };

function scalarText(value: unknown): string | undefined {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;
}

/** Converts one raw value (YAML scalar, or the text after `=` of --set) for `spec`; undefined = unset. */
export function convertValue(spec: FieldSpec, raw: unknown): Converted {
  if (raw === null || raw === undefined) return { ok: true, value: undefined };
  const bad = (expected: string): Converted => ({ ok: false, problem: `${show(raw)} ${expected}` });
  switch (spec.type) {
    case 'string': {
      const text = scalarText(raw);
      return text === undefined ? bad('is not a string') : { ok: true, value: text };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if (text === 'true' || text === 'false') return { ok: true, value: text === 'true' };
      return bad('is not a boolean (use true or false)');
    }
    case 'duration': {
      const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDurationMs(raw) : undefined;
      if (ms === undefined) return bad(`is not a duration (examples: ${spec.examples})`);
      if (spec.positive && ms === 0) return bad(`must be greater than 0 (examples: ${spec.examples})`);
      const tooLong = durationLimitProblem(ms);
      if (tooLong) return bad(`${tooLong} (examples: ${spec.examples})`);
      return { ok: true, value: ms };
    }
    case 'size': {
      const bytes = typeof raw === 'string' || typeof raw === 'number' ? parseSizeBytes(raw) : undefined;
      if (bytes === undefined) return bad('is not a size (examples: 4MiB, 512KiB, 64MB, or bytes)');
      if (bytes < spec.min) return bad(`is too small (at least ${spec.min} bytes)`);
      if (spec.max !== undefined && bytes > spec.max) {
        return bad(
          `exceeds 64MiB, the largest request OTLP allows (use at most 64MiB; 4MiB fits every receiver's default)`,
        );
      }
      return { ok: true, value: bytes };
    }
    case 'int': {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)
            ? Number(raw)
            : NaN;
      if (!Number.isInteger(n)) return bad('is not a whole number');
      if (n < spec.min) return bad(`must be at least ${spec.min}`);
      return { ok: true, value: n };
    }
    case 'number': {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n < spec.min || (spec.max !== undefined && n > spec.max)) {
        return bad(`is not a valid number (examples: ${spec.examples})`);
      }
      return { ok: true, value: n };
    }
    case 'enum': {
      const text = scalarText(raw)?.trim();
      if (text === '' && spec.emptyIsUnset) return { ok: true, value: undefined };
      if (text !== undefined && spec.values.includes(text)) return { ok: true, value: text };
      return bad(
        `is not valid (one of: ${spec.values.join(', ')})${text ? didYouMean(text, spec.values) : ''}`,
      );
    }
    case 'map': {
      if (!isPlainObject(raw)) return { ok: false, problem: 'expected a mapping of names to string values' };
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) {
        // Header values are secrets: name the entry, never show the value.
        const text = v === null ? '' : scalarText(v);
        if (text === undefined) return { ok: false, problem: `entry "${k}" must be a string` };
        if (k.trim() === '') return { ok: false, problem: 'entry names must not be empty' };
        if (/[\r\n]/.test(text)) return { ok: false, problem: `entry "${k}" must not contain line breaks` };
        out[k] = text;
      }
      return { ok: true, value: out };
    }
    case 'service-name-list': {
      const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : undefined;
      if (!items) return bad('is not a list of service.name sources');
      const list: string[] = [];
      for (const item of items) {
        const text = scalarText(item)?.trim();
        if (text === undefined || !isServiceNameSource(text)) {
          return {
            ok: false,
            problem:
              `${show(item)} is not a service.name source (use label:<pod label>, field:<gadget field>, ` +
              `${SERVICE_NAME_SOURCES.join(', ')})` +
              (text ? didYouMean(text, SERVICE_NAME_SOURCES) : ''),
          };
        }
        list.push(text);
      }
      if (list.length === 0)
        return {
          ok: false,
          problem: 'must name at least one source (e.g. [owner, process.executable.name])',
        };
      return { ok: true, value: list };
    }
  }
}

function store(map: SettingMap, key: string, raw: unknown, keys: readonly string[], ctx: ParseContext): void {
  const spec = EXPORTER_FIELDS[key];
  if (!spec) return;
  const converted = convertValue(spec, raw);
  if (!converted.ok) {
    ctx.problems.push(`${describe(ctx, keys)}: ${converted.problem}`);
    return;
  }
  if (converted.value === undefined) return;
  // File settings remember their file:line:col, so later messages (endpoint, TLS files) can point at them.
  const location = ctx.locate?.(keys);
  const source: SettingSource = location ? { layer: ctx.source.layer, label: location } : ctx.source;
  if (spec.type === 'map') {
    const previous = map.get(key)?.value as Readonly<Record<string, string>> | undefined;
    map.set(key, { value: { ...previous, ...(converted.value as Record<string, string>) }, source });
  } else {
    map.set(key, { value: converted.value, source });
  }
}

function unknownKey(keys: readonly string[], ctx: ParseContext, siblings: readonly string[]): void {
  const last = keys[keys.length - 1] ?? '';
  ctx.problems.push(
    `${describe(ctx, keys, 'key')}: unknown key${didYouMean(last, siblings)} (valid here: ${siblings.join(', ')})`,
  );
}

/**
 * Parses the nested settings of one exporter from the YAML file (`exporter: …, retry: {…}`).
 * Unknown keys are problems with a suggestion; IG's four keys are a subset, so IG files parse unchanged.
 */
export function parseExporterTree(raw: unknown, ctx: ParseContext): SettingMap {
  const map: SettingMap = new Map();
  if (raw === null || raw === undefined) return map;
  if (!isPlainObject(raw)) {
    ctx.problems.push(
      `${describe(ctx, [])}: expected a mapping of exporter settings (exporter: otlp-grpc, endpoint: …)`,
    );
    return map;
  }
  const topLevel = [...Object.keys(EXPORTER_FIELDS).filter((k) => !k.includes('.')), ...SECTIONS];
  for (const [key, value] of Object.entries(raw)) {
    if (SECTIONS.has(key)) {
      if (value === null) continue;
      if (!isPlainObject(value)) {
        ctx.problems.push(`${describe(ctx, [key])}: expected a mapping (${key}: { … })`);
        continue;
      }
      const children = Object.keys(EXPORTER_FIELDS)
        .filter((k) => k.startsWith(`${key}.`))
        .map((k) => k.slice(key.length + 1));
      const aliases = Object.keys(KEY_ALIASES).filter((k) => k.startsWith(`${key}.`));
      for (const [child, childValue] of Object.entries(value)) {
        let flat = `${key}.${child}`;
        if (aliases.includes(flat)) {
          const target = KEY_ALIASES[flat] ?? flat;
          if (Object.hasOwn(value, target.slice(key.length + 1))) {
            ctx.problems.push(
              `${describe(ctx, [key, child])}: set either ${child} or ${target.slice(key.length + 1)}, not both`,
            );
            continue;
          }
          flat = target;
        }
        if (!EXPORTER_FIELDS[flat]) unknownKey([key, child], ctx, children);
        else store(map, flat, childValue, [key, child], ctx);
      }
    } else if (EXPORTER_FIELDS[key]) {
      store(map, key, value, [key], ctx);
    } else {
      unknownKey([key], ctx, topLevel);
    }
  }
  return map;
}

/**
 * Parses one `--set` key below the exporter (`retry.max_elapsed_time`, `headers.x-scope-orgid`)
 * with its text value into `map`. Map keys take the rest of the key as the entry name (dots allowed).
 */
export function parseExporterSetting(map: SettingMap, key: string, value: string, ctx: ParseContext): void {
  const mapKey = MAP_KEYS.find((k) => key.startsWith(`${k}.`));
  if (mapKey) {
    store(map, mapKey, { [key.slice(mapKey.length + 1)]: value }, key.split('.'), ctx);
    return;
  }
  const flat = KEY_ALIASES[key] ?? key;
  if (!EXPORTER_FIELDS[flat]) {
    const all = Object.keys(EXPORTER_FIELDS);
    const section = key.split('.')[0] ?? '';
    // List the keys of the section the user meant, or the top level.
    const valid = SECTIONS.has(section)
      ? all.filter((k) => k.startsWith(`${section}.`))
      : [...all.filter((k) => !k.includes('.')), ...[...SECTIONS].map((s) => `${s}.*`)];
    ctx.problems.push(
      `${describe(ctx, key.split('.'))}: unknown key${didYouMean(key, all)} (valid: ${valid.join(', ')})`,
    );
    return;
  }
  store(map, flat, value, key.split('.'), ctx);
}
