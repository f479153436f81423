import { ConfigError } from './config-error.js';

/**
 * `--otel-profiles-exporter`, with IG's `GetStringValuesPerDataSource` syntax:
 *
 * - `NAME`: every datasource goes to exporter NAME;
 * - `ds1:NAME1,ds2:NAME2`: per datasource; a datasource without an entry is not exported;
 * - mixing the two forms is an error (as in IG).
 *
 * Our one extension is fan-out by repetition: where IG keeps only the last value for a repeated
 * key, we keep them all, so `samples:otlp,samples:files` sends `samples` to both and `otlp,files`
 * sends every datasource to both. No new syntax, and every selection IG accepts with distinct keys
 * means the same here.
 */
export type ExporterSelection =
  | {
      readonly kind: 'all';
      /** Exporters for every datasource, in order, without duplicates. */
      readonly exporters: readonly string[];
      /** The text it was parsed from; '' for the implicit `default` selection. */
      readonly text: string;
    }
  | {
      readonly kind: 'per-datasource';
      readonly byDataSource: ReadonlyMap<string, readonly string[]>;
      readonly text: string;
    };

/** kubectl gadget's combiner renames a node-merged datasource `<ds>` to `combined-<ds>`. */
const COMBINED_PREFIX = 'combined-';

/** The selection when none is given: the exporter named `default`, for every datasource. */
export const IMPLICIT_SELECTION: ExporterSelection = { kind: 'all', exporters: ['default'], text: '' };

/**
 * Reads a selection. A problem is phrased to follow the quoted text (`: ":x" names no datasource …`,
 * ` is empty: …`), so each caller names the source its own way.
 */
export function readExporterSelection(
  text: string,
):
  | { readonly ok: true; readonly value: ExporterSelection }
  | { readonly ok: false; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const all: string[] = [];
  const byDataSource = new Map<string, string[]>();
  for (const item of text.split(',')) {
    const entry = item.trim();
    if (entry === '') continue;
    const colon = entry.indexOf(':');
    if (colon === -1) {
      if (!all.includes(entry)) all.push(entry);
      continue;
    }
    const ds = entry.slice(0, colon).trim();
    const name = entry.slice(colon + 1).trim();
    if (ds === '')
      problems.push(
        `: "${entry}" names no datasource (write DATASOURCE:EXPORTER, e.g. samples:${name || 'otlp'})`,
      );
    if (name === '') problems.push(`: "${entry}" names no exporter (write ${ds || 'samples'}:EXPORTER)`);
    if (ds === '' || name === '') continue;
    const list = byDataSource.get(ds) ?? [];
    if (!list.includes(name)) list.push(name);
    byDataSource.set(ds, list);
  }
  if (all.length > 0 && byDataSource.size > 0) {
    problems.push(
      `: mixes NAME and DATASOURCE:NAME entries; use one form ` +
        `(e.g. ${all[0]} for every datasource, or ${[...byDataSource.keys()][0]}:${all[0]} per datasource)`,
    );
  }
  if (problems.length === 0 && all.length === 0 && byDataSource.size === 0) {
    problems.push(' is empty: name an exporter (NAME, or DATASOURCE:NAME,DATASOURCE2:NAME2)');
  }
  if (problems.length > 0) return { ok: false, problems };
  const value: ExporterSelection =
    all.length > 0 ? { kind: 'all', exporters: all, text } : { kind: 'per-datasource', byDataSource, text };
  return { ok: true, value };
}

/**
 * Parses a selection.
 * @param origin names the source in messages (`--otel-profiles-exporter`, or the config key).
 * @throws ConfigError on empty values, empty names, or mixed forms.
 */
export function parseExporterSelection(text: string, origin = '--otel-profiles-exporter'): ExporterSelection {
  const read = readExporterSelection(text);
  if (!read.ok) throw new ConfigError(read.problems.map((p) => `${origin} ${JSON.stringify(text)}${p}`));
  return read.value;
}

/**
 * The exporters a datasource's rows go to (empty = not exported). `combined-<ds>` also matches
 * entries for `<ds>`, so one selection works for `ig` and for `kubectl gadget`'s combined output.
 */
export function selectExporters(selection: ExporterSelection, datasource: string): string[] {
  if (selection.kind === 'all') return [...selection.exporters];
  const out = [...(selection.byDataSource.get(datasource) ?? [])];
  if (datasource.startsWith(COMBINED_PREFIX)) {
    for (const name of selection.byDataSource.get(datasource.slice(COMBINED_PREFIX.length)) ?? []) {
      if (!out.includes(name)) out.push(name);
    }
  }
  return out;
}

/** Every exporter name the selection mentions, in first-mention order. */
export function selectedExporterNames(selection: ExporterSelection): string[] {
  if (selection.kind === 'all') return [...selection.exporters];
  const out: string[] = [];
  for (const names of selection.byDataSource.values())
    for (const n of names) if (!out.includes(n)) out.push(n);
  return out;
}
