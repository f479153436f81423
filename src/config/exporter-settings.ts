import { isPlainObject } from '../util/plain-object.js';
import { didYouMean } from './config-error.js';
import { SECTION_KEY } from './config-file.js';
import type { DefaultContext, ExporterKeyName, ExporterKeyRow } from './exporter-schema.js';
import { defaultOf, EXPORTER_ROWS, exporterRow } from './exporter-schema.js';

/**
 * The settings of one exporter as flat dotted keys (`retry.max_elapsed_time`), the same keys in
 * the YAML file (nested) and in `--set operator.otel-profiles.exporters.NAME.<key>=VALUE`. Each
 * layer (defaults, file, env, flags, --set) parses into a `SettingMap`; load-config.ts merges them.
 * Every setting remembers its source so messages can say where a value came from. The keys, their
 * types and defaults are the rows of exporter-schema.ts.
 */

export interface SettingSource {
  readonly layer: 'default' | 'file' | 'env' | 'flag' | 'set';
  /** Human name of the place: `config.yaml:12:7`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `--endpoint`, `--set …`. */
  readonly label: string;
}

export interface Setting {
  /** Produced by the key's value type (exporter-schema.ts), or by an env reader of the same type. */
  readonly value: unknown;
  readonly source: SettingSource;
}

/** Flat key → setting. */
export type SettingMap = Map<ExporterKeyName, Setting>;

const ALIASES = new Map(EXPORTER_ROWS.flatMap((r) => (r.alias ? [[r.alias, r.key] as const] : [])));
const SECTIONS = new Set(
  EXPORTER_ROWS.flatMap((r) => (r.key.includes('.') ? [r.key.split('.')[0] ?? ''] : [])),
);
const MAP_ROWS = EXPORTER_ROWS.filter((r) => r.type.mergesEntries);
const ALL_KEYS: readonly string[] = EXPORTER_ROWS.map((r) => r.key);

/** `operator.otel-profiles.exporters.<name>`: the prefix of an exporter's keys in messages. */
export function exporterPrefix(name: string): string {
  return `${SECTION_KEY}.exporters.${name}`;
}

/** Where a setting came from, for messages: names the key and its place. */
export function describeSetting(name: string, key: string, source: SettingSource): string {
  switch (source.layer) {
    case 'file':
      return `${source.label}: ${exporterPrefix(name)}.${key}`;
    case 'set':
      return `--set ${exporterPrefix(name)}.${key}`;
    case 'env':
    case 'flag':
      return `${source.label} (exporter "${name}")`;
    case 'default':
      return `${exporterPrefix(name)}.${key} (default)`;
  }
}

export function emptyLayer(): SettingMap {
  return new Map<ExporterKeyName, Setting>();
}

/** The built-in defaults of an exporter in `ctx`, as the lowest layer. */
export function defaultLayer(ctx: DefaultContext): SettingMap {
  const map: SettingMap = new Map();
  for (const row of EXPORTER_ROWS) {
    const value = defaultOf(row, ctx);
    if (value !== undefined) map.set(row.key, { value, source: { layer: 'default', label: 'default' } });
  }
  return map;
}

/** Later layers win; map values (headers, resource.attributes) merge by entry. */
export function mergeLayers(layers: readonly SettingMap[]): SettingMap {
  const out: SettingMap = new Map();
  for (const layer of layers) {
    for (const [key, setting] of layer) put(out, exporterRow(key), setting);
  }
  return out;
}

function put(map: SettingMap, row: ExporterKeyRow | undefined, setting: Setting): void {
  if (!row) return;
  const previous = map.get(row.key)?.value;
  if (row.type.mergesEntries && isPlainObject(previous) && isPlainObject(setting.value)) {
    map.set(row.key, { value: { ...previous, ...setting.value }, source: setting.source });
  } else {
    map.set(row.key, setting);
  }
}

/**
 * Converts one raw value (YAML scalar, the text after `=` of --set, a flag) for `key` into `map`;
 * a bad value is a problem `label: <what is wrong>`.
 */
export function setFromRaw(
  map: SettingMap,
  key: ExporterKeyName,
  raw: unknown,
  source: SettingSource,
  problems: string[],
): void {
  const row = exporterRow(key);
  if (!row) return;
  const parsed = row.type.parse(raw);
  if (!parsed.ok) problems.push(`${source.label}: ${parsed.problem}`);
  else if (parsed.value !== undefined) put(map, row, { value: parsed.value, source });
}

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

function store(map: SettingMap, key: string, raw: unknown, keys: readonly string[], ctx: ParseContext): void {
  const row = exporterRow(key);
  if (!row) return;
  const parsed = row.type.parse(raw);
  if (!parsed.ok) {
    ctx.problems.push(`${describe(ctx, keys)}: ${parsed.problem}`);
    return;
  }
  if (parsed.value === undefined) return;
  // File settings remember their file:line:col, so later messages (endpoint, TLS files) can point at them.
  const location = ctx.locate?.(keys);
  const source: SettingSource = location ? { layer: ctx.source.layer, label: location } : ctx.source;
  put(map, row, { value: parsed.value, source });
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
  const topLevel = [...ALL_KEYS.filter((k) => !k.includes('.')), ...SECTIONS];
  for (const [key, value] of Object.entries(raw)) {
    if (SECTIONS.has(key)) {
      if (value === null) continue;
      if (!isPlainObject(value)) {
        ctx.problems.push(`${describe(ctx, [key])}: expected a mapping (${key}: { … })`);
        continue;
      }
      const children = ALL_KEYS.filter((k) => k.startsWith(`${key}.`)).map((k) => k.slice(key.length + 1));
      const aliases = [...ALIASES.keys()].filter((k) => k.startsWith(`${key}.`));
      for (const [child, childValue] of Object.entries(value)) {
        let flat = `${key}.${child}`;
        if (aliases.includes(flat)) {
          const target = ALIASES.get(flat) ?? flat;
          if (Object.hasOwn(value, target.slice(key.length + 1))) {
            ctx.problems.push(
              `${describe(ctx, [key, child])}: set either ${child} or ${target.slice(key.length + 1)}, not both`,
            );
            continue;
          }
          flat = target;
        }
        if (!exporterRow(flat)) unknownKey([key, child], ctx, children);
        else store(map, flat, childValue, [key, child], ctx);
      }
    } else if (exporterRow(key)) {
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
  const mapKey = MAP_ROWS.find((r) => key.startsWith(`${r.key}.`))?.key;
  if (mapKey) {
    store(map, mapKey, { [key.slice(mapKey.length + 1)]: value }, key.split('.'), ctx);
    return;
  }
  const flat = ALIASES.get(key) ?? key;
  if (!exporterRow(flat)) {
    const all = ALL_KEYS;
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
