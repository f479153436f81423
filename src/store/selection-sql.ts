import type { Selection } from './profile-store.js';
import type { SeriesInfo, StoreDictionary } from './store-dictionary.js';
import { InvalidSelectionError } from './store-errors.js';
import {
  SPAN_ID_BYTES,
  SPAN_ID_HEX,
  SPAN_ID_HEX_DIGITS,
  TRACE_ID_BYTES,
  TRACE_ID_HEX,
  TRACE_ID_HEX_DIGITS,
} from '../profiles/model/otlp-ids.js';

/**
 * A Selection as a SQL condition on `samples`. Attribute filters resolve in memory against the (small)
 * series and attribute-set dictionaries into id lists, so the scan only compares integers; no text from
 * the query ever reaches the SQL (ids, bigint literals and validated hex only).
 */

/** The profile type chosen when a selection names none and it is stored: CPU samples. */
export const DEFAULT_PROFILE_TYPE = 'samples/count';

/** Which series and attribute sets one filter key accepts. */
export interface KeyFilter {
  readonly key: string;
  /** undefined: the key is not a series (resource/profile) attribute. */
  readonly series: ReadonlySet<number> | undefined;
  readonly attributeSets: ReadonlySet<number> | undefined;
}

export interface ResolvedSelection {
  readonly typeId: string | undefined;
  readonly typeSeries: readonly SeriesInfo[];
  /** Time, type and trace conditions. */
  readonly base: readonly string[];
  readonly keys: readonly KeyFilter[];
}

function idList(ids: Iterable<number>): string {
  const list = [...ids];
  return list.length === 0 ? '' : list.join(',');
}

function inList(column: string, ids: ReadonlySet<number>): string {
  return ids.size === 0 ? 'FALSE' : `${column} IN (${idList(ids)})`;
}

export function storedTypeIds(dict: StoreDictionary): string[] {
  return [...new Set(dict.series.map((s) => s.typeId))];
}

export function resolveSelection(sel: Selection, dict: StoreDictionary): ResolvedSelection {
  const types = storedTypeIds(dict);
  let typeId = sel.type;
  if (typeId !== undefined && typeId !== '' && !types.includes(typeId))
    throw new InvalidSelectionError(
      'type',
      `unknown profile type "${typeId}"; stored types: ${types.length ? types.join(', ') : '(none yet)'}`,
    );
  if (typeId === undefined || typeId === '')
    typeId = types.includes(DEFAULT_PROFILE_TYPE) ? DEFAULT_PROFILE_TYPE : types[0];
  const typeSeries = dict.series.filter((s) => s.typeId === typeId);
  const base: string[] = [];
  if (sel.from !== undefined) base.push(`time >= ${sel.from}`);
  if (sel.to !== undefined) base.push(`time < ${sel.to}`);
  if (typeSeries.length !== dict.series.length)
    base.push(inList('series', new Set(typeSeries.map((s) => s.id))));
  if (sel.traceId !== undefined && sel.traceId !== '') {
    const trace = sel.traceId.toLowerCase();
    if (!TRACE_ID_HEX.test(trace))
      throw new InvalidSelectionError(
        'traceId',
        `traceId "${sel.traceId}" must be ${TRACE_ID_HEX_DIGITS} hex characters (${TRACE_ID_BYTES} bytes)`,
      );
    base.push(`trace_id = '${BigInt(`0x${trace}`)}'::UHUGEINT`);
  }
  if (sel.spanId !== undefined && sel.spanId !== '') {
    const span = sel.spanId.toLowerCase();
    if (!SPAN_ID_HEX.test(span))
      throw new InvalidSelectionError(
        'spanId',
        `spanId "${sel.spanId}" must be ${SPAN_ID_HEX_DIGITS} hex characters (${SPAN_ID_BYTES} bytes)`,
      );
    base.push(`span_id = '${BigInt(`0x${span}`)}'::UBIGINT`);
  }
  const keys: KeyFilter[] = [];
  for (const [key, values] of sel.filters) keys.push(keyFilter(dict, key, new Set(values)));
  return { typeId, typeSeries, base, keys };
}

function keyFilter(dict: StoreDictionary, key: string, values: ReadonlySet<string>): KeyFilter {
  let series: Set<number> | undefined;
  for (const s of dict.series) {
    for (const [k, v] of s.labels) {
      if (k !== key) continue;
      series ??= new Set();
      if (values.has(v)) series.add(s.id);
    }
  }
  let attributeSets: Set<number> | undefined;
  dict.attributeSets.forEach((labels, id) => {
    for (const [k, v] of labels) {
      if (k !== key) continue;
      attributeSets ??= new Set();
      if (values.has(v)) attributeSets.add(id);
    }
  });
  if (!series && !attributeSets) {
    const known = [...allAttributeKeys(dict)].sort();
    throw new InvalidSelectionError(
      key,
      `no stored sample has the attribute "${key}"; known attributes: ${known.length ? known.join(', ') : '(none yet)'}`,
    );
  }
  return { key, series, attributeSets };
}

export function allAttributeKeys(dict: StoreDictionary): Set<string> {
  const keys = new Set<string>();
  for (const s of dict.series) for (const [k] of s.labels) keys.add(k);
  for (const labels of dict.attributeSets) for (const [k] of labels) keys.add(k);
  return keys;
}

function keyCondition(f: KeyFilter): string {
  const parts: string[] = [];
  if (f.series) parts.push(inList('series', f.series));
  if (f.attributeSets) parts.push(inList('attrs', f.attributeSets));
  return parts.length === 1 ? parts[0]! : `(${parts.join(' OR ')})`;
}

/** The full condition (`TRUE` when the selection selects everything). */
export function whereOf(resolved: ResolvedSelection, extra: readonly string[] = []): string {
  const all = [...resolved.base, ...resolved.keys.map(keyCondition), ...extra];
  return all.length === 0 ? 'TRUE' : all.join(' AND ');
}

/** Whether a (series, attribute set) pair passes every key filter except `skipKey`. */
export function passesKeys(
  keys: readonly KeyFilter[],
  series: number,
  attributeSet: number,
  skipKey?: string,
): boolean {
  for (const f of keys) {
    if (f.key === skipKey) continue;
    if (!(f.series?.has(series) || f.attributeSets?.has(attributeSet))) return false;
  }
  return true;
}
