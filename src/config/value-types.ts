import { isPlainObject } from '../util/plain-object.js';
import { didYouMean } from './config-error.js';
import type { ExporterSelection } from './exporter-selection.js';
import { readExporterSelection, selectedExporterNames } from './exporter-selection.js';
import { isServiceNameSource, SERVICE_NAME_SOURCES } from './service-name-sources.js';
import type { TelemetryAddress } from './telemetry-address.js';
import { parseTelemetryAddress } from './telemetry-address.js';
import {
  durationLimitProblem,
  formatDuration,
  formatSize,
  parseDurationMs,
  parseSizeBytes,
} from './units.js';

/**
 * The value types of config keys: how a raw value (a YAML scalar, the text after `=` of `--set`,
 * a flag) is parsed and checked, how it prints in `--print-config`, and how it is named in the key
 * table of docs/configuration.md. A `ValueType<V>` only ever produces a `V`, so a schema row
 * pairing it with a field of `ExporterConfig` (exporter-schema.ts) or of the section's settings
 * (section-schema.ts) is checked by TypeScript.
 */

export type Parsed<V> =
  { readonly ok: true; readonly value: V | undefined } | { readonly ok: false; readonly problem: string };

export interface ValueType<V> {
  /** The type column of the docs key table (`duration > 0`, `` `gzip` \| `none` ``). */
  readonly doc: string;
  /** Parses one raw value; `value: undefined` = unset. Problems read as `"x" is not a duration (…)`. */
  parse(raw: unknown): Parsed<V>;
  /** True when `value` is something this type produces (settings are stored untyped between layers). */
  is(value: unknown): value is V;
  /** The value as `--print-config` writes it (loads back to the same value). */
  print(value: V): unknown;
  /** The value as the docs key table writes a default (without backticks). */
  docValue(value: V): string;
  /** Map values merge by entry across layers; other values are replaced. */
  readonly mergesEntries?: boolean;
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

function scalarText(value: unknown): string | undefined {
  return typeof value === 'string'
    ? value
    : typeof value === 'number' || typeof value === 'boolean'
      ? String(value)
      : undefined;
}

/** Wraps `parse` so null/undefined mean unset and `bad(…)` names the raw value. */
function parser<V>(
  convert: (raw: unknown, bad: (expected: string) => Parsed<V>) => Parsed<V>,
): (raw: unknown) => Parsed<V> {
  return (raw) => {
    if (raw === null || raw === undefined) return { ok: true, value: undefined };
    return convert(raw, (expected) => ({ ok: false, problem: `${show(raw)} ${expected}` }));
  };
}

const isNumber = (value: unknown): value is number => typeof value === 'number';

function text(doc: string): ValueType<string> {
  return {
    doc,
    parse: parser((raw, bad) => {
      const value = scalarText(raw);
      return value === undefined ? bad('is not a string') : { ok: true, value };
    }),
    is: (value): value is string => typeof value === 'string',
    print: (value) => value,
    docValue: (value) => value,
  };
}

export const stringValue = (): ValueType<string> => text('string');
/** A file or directory path (a string; the docs call it a path). */
export const pathValue = (doc = 'path'): ValueType<string> => text(doc);

export function booleanValue(): ValueType<boolean> {
  return {
    doc: 'bool',
    parse: parser((raw, bad) => {
      if (typeof raw === 'boolean') return { ok: true, value: raw };
      const lower = typeof raw === 'string' ? raw.trim().toLowerCase() : '';
      if (lower === 'true' || lower === 'false') return { ok: true, value: lower === 'true' };
      return bad('is not a boolean (use true or false)');
    }),
    is: (value): value is boolean => typeof value === 'boolean',
    print: (value) => value,
    docValue: String,
  };
}

/** Milliseconds, written `10s`, `500ms`, `5m` or as a number of milliseconds. */
export function durationValue(o: {
  readonly examples: string;
  readonly positive?: boolean;
}): ValueType<number> {
  return {
    doc: o.positive ? 'duration > 0' : 'duration',
    parse: parser((raw, bad) => {
      const ms = typeof raw === 'string' || typeof raw === 'number' ? parseDurationMs(raw) : undefined;
      if (ms === undefined) return bad(`is not a duration (examples: ${o.examples})`);
      if (o.positive && ms === 0) return bad(`must be greater than 0 (examples: ${o.examples})`);
      const tooLong = durationLimitProblem(ms);
      if (tooLong) return bad(`${tooLong} (examples: ${o.examples})`);
      return { ok: true, value: ms };
    }),
    is: isNumber,
    print: formatDuration,
    docValue: formatDuration,
  };
}

/** Bytes, written `4MiB`, `512KiB`, `64MB` or as a number of bytes. */
export function sizeValue(o: {
  readonly min: number;
  /** With the text that says why it is the limit and what fits. */
  readonly max?: { readonly bytes: number; readonly problem: string };
}): ValueType<number> {
  return {
    doc: o.max ? `size, ≤ \`${formatSize(o.max.bytes)}\`` : 'size',
    parse: parser((raw, bad) => {
      const bytes = typeof raw === 'string' || typeof raw === 'number' ? parseSizeBytes(raw) : undefined;
      if (bytes === undefined) return bad('is not a size (examples: 4MiB, 512KiB, 64MB, or bytes)');
      if (bytes < o.min) return bad(`is too small (at least ${o.min} bytes)`);
      if (o.max && bytes > o.max.bytes) return bad(o.max.problem);
      return { ok: true, value: bytes };
    }),
    is: isNumber,
    print: formatSize,
    docValue: formatSize,
  };
}

export function integerValue(o: { readonly min: number }): ValueType<number> {
  return {
    doc: `integer ≥ ${o.min}`,
    parse: parser((raw, bad) => {
      const n =
        typeof raw === 'number'
          ? raw
          : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw)
            ? Number(raw)
            : NaN;
      if (!Number.isInteger(n)) return bad('is not a whole number');
      if (n < o.min) return bad(`must be at least ${o.min}`);
      return { ok: true, value: n };
    }),
    is: isNumber,
    print: (value) => value,
    docValue: String,
  };
}

export function numberValue(o: {
  readonly min: number;
  readonly max?: number;
  readonly examples: string;
}): ValueType<number> {
  return {
    doc: o.max !== undefined ? `number ${o.min}–${o.max}` : `number ≥ ${o.min}`,
    parse: parser((raw, bad) => {
      const n =
        typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n) || n < o.min || (o.max !== undefined && n > o.max)) {
        return bad(`is not a valid number (examples: ${o.examples})`);
      }
      return { ok: true, value: n };
    }),
    is: isNumber,
    print: (value) => value,
    docValue: String,
  };
}

/**
 * One of `values`; with `emptyIsUnset`, `""` means the key is not set (IG writes `compression: ""`);
 * with `ignoreCase`, `DEBUG` reads as `debug` (the values are lower case).
 */
export function oneOf<const T extends string>(
  values: readonly T[],
  o: { readonly emptyIsUnset?: boolean; readonly ignoreCase?: boolean } = {},
): ValueType<T> {
  const is = (value: unknown): value is T =>
    typeof value === 'string' && (values as readonly string[]).includes(value);
  return {
    doc: [...values.map((v) => `\`${v}\``), ...(o.emptyIsUnset ? ['`""`'] : [])].join(' \\| '),
    parse: parser((raw, bad) => {
      const text = scalarText(raw)?.trim();
      const value = o.ignoreCase ? text?.toLowerCase() : text;
      if (value === '' && o.emptyIsUnset) return { ok: true, value: undefined };
      if (is(value)) return { ok: true, value };
      return bad(`is not valid (one of: ${values.join(', ')})${value ? didYouMean(value, values) : ''}`);
    }),
    is,
    print: (value) => value,
    docValue: (value) => value,
  };
}

/** Names to string values (headers, resource attributes); layers merge by entry. */
export function stringMapValue(
  o: { readonly redactedAs?: string } = {},
): ValueType<Readonly<Record<string, string>>> {
  return {
    doc: 'map of string',
    mergesEntries: true,
    parse: (raw) => {
      if (raw === null || raw === undefined) return { ok: true, value: undefined };
      if (!isPlainObject(raw)) return { ok: false, problem: 'expected a mapping of names to string values' };
      const out: Record<string, string> = {};
      for (const [k, v] of Object.entries(raw)) {
        // Header values are secrets: name the entry, never show the value.
        const value = v === null ? '' : scalarText(v);
        if (value === undefined) return { ok: false, problem: `entry "${k}" must be a string` };
        if (k.trim() === '') return { ok: false, problem: 'entry names must not be empty' };
        if (/[\r\n]/.test(value)) return { ok: false, problem: `entry "${k}" must not contain line breaks` };
        out[k] = value;
      }
      return { ok: true, value: out };
    },
    is: (value): value is Readonly<Record<string, string>> =>
      isPlainObject(value) && Object.values(value).every((v) => typeof v === 'string'),
    print: (value) => Object.fromEntries(Object.entries(value).map(([k, v]) => [k, o.redactedAs ?? v])),
    docValue: (value) => JSON.stringify(value),
  };
}

/** The service.name chain: a list (or comma-separated text) of sources, at least one. */
export function serviceNameListValue(): ValueType<readonly string[]> {
  return {
    doc: 'list of sources',
    parse: parser((raw, bad) => {
      const items = Array.isArray(raw)
        ? (raw as unknown[])
        : typeof raw === 'string'
          ? raw.split(',')
          : undefined;
      if (!items) return bad('is not a list of service.name sources');
      const list: string[] = [];
      for (const item of items) {
        const value = scalarText(item)?.trim();
        if (value === undefined || !isServiceNameSource(value)) {
          return {
            ok: false,
            problem:
              `${show(item)} is not a service.name source (use label:<pod label>, field:<gadget field>, ` +
              `${SERVICE_NAME_SOURCES.join(', ')})` +
              (value ? didYouMean(value, SERVICE_NAME_SOURCES) : ''),
          };
        }
        list.push(value);
      }
      if (list.length === 0) {
        return {
          ok: false,
          problem: 'must name at least one source (e.g. [owner, process.executable.name])',
        };
      }
      return { ok: true, value: list };
    }),
    is: (value): value is readonly string[] =>
      Array.isArray(value) && value.every((v) => typeof v === 'string'),
    print: (value) => [...value],
    docValue: (value) => JSON.stringify(value),
  };
}

/** Which exporters receive which datasources, in IG's syntax (exporter-selection.ts). */
export function exporterSelectionValue(): ValueType<ExporterSelection> {
  return {
    doc: '`NAME` \\| `DATASOURCE:NAME,…`',
    parse: parser((raw, bad) => {
      const value = scalarText(raw);
      if (value === undefined) return bad('is not a selection (NAME, or DATASOURCE:NAME,DATASOURCE2:NAME2)');
      const read = readExporterSelection(value);
      if (read.ok) return read;
      return { ok: false, problem: read.problems.map((p) => `${JSON.stringify(value)}${p}`).join('; ') };
    }),
    is: (value): value is ExporterSelection =>
      isPlainObject(value) && (value.kind === 'all' || value.kind === 'per-datasource'),
    print: printSelection,
    docValue: printSelection,
  };
}

/** As written; the implicit selection (no text) as the exporters it names, which loads back the same. */
function printSelection(selection: ExporterSelection): string {
  return selection.text !== '' ? selection.text : selectedExporterNames(selection).join(',');
}

/** `HOST:PORT` to listen on (telemetry-address.ts); an empty HOST is every interface. */
export function listenAddressValue(): ValueType<TelemetryAddress> {
  return {
    doc: '`HOST:PORT`',
    parse: parser((raw, bad) => {
      const text = scalarText(raw);
      if (text === undefined) return bad('is not an address (expected HOST:PORT, e.g. 127.0.0.1:9464)');
      const address = parseTelemetryAddress(text);
      return typeof address === 'string' ? { ok: false, problem: address } : { ok: true, value: address };
    }),
    is: (value): value is TelemetryAddress =>
      isPlainObject(value) && typeof value.port === 'number' && typeof value.text === 'string',
    print: (value) => value.text,
    docValue: (value) => value.text,
  };
}
