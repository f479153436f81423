import type {
  ExportProfilesServiceRequest,
  KeyValue,
  Profile,
  ProfilesDictionary,
} from '../profiles/model/otlp-model.js';
import { anyValueText } from '../profiles/pprof/otlp-to-pprof.js';
import { FRAME_TYPE_ATTRIBUTE } from '../profiles/request/request-generator.js';
import type { Labels, StoreDictionary } from './store-dictionary.js';

/**
 * Turns the accepted profiles of a (validated) request into sample rows over the store's dictionary:
 * every stack becomes one leaf of the global prefix tree, every resource + scope + profile type one
 * series, every sample attribute list one attribute set. Rows that share (time, stack, series, attribute
 * set, link) are summed, and the rows come out sorted by time (DuckDB prunes row groups by time).
 */

export interface SampleRows {
  readonly count: number;
  readonly time: BigInt64Array;
  readonly value: BigInt64Array;
  readonly node: Int32Array;
  readonly series: Int32Array;
  readonly attrs: Int32Array;
  /** null: no link. */
  readonly traceId: (bigint | null)[];
  readonly spanId: (bigint | null)[];
}

interface PendingRow {
  time: bigint;
  value: bigint;
  node: number;
  series: number;
  attrs: number;
  link: number;
}

/** What an unsymbolized frame is called: module and address, as pprof and perf print it. */
function unsymbolizedName(mapping: string, address: bigint): string {
  const module = mapping.slice(mapping.lastIndexOf('/') + 1);
  return module ? `${module}+0x${address.toString(16)}` : `0x${address.toString(16)}`;
}

function sortedLabels(pairs: Iterable<readonly [string, string]>): Labels {
  const byKey = new Map<string, string>();
  for (const [k, v] of pairs) if (!byKey.has(k)) byKey.set(k, v);
  return [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

function attributeLabels(dict: ProfilesDictionary, indices: readonly number[]): [string, string][] {
  return indices.map((ai) => {
    const attr = dict.attributeTable[ai]!;
    return [dict.stringTable[attr.keyStrindex]!, anyValueText(attr.value, dict)];
  });
}

function resourceLabels(attributes: readonly KeyValue[], dict: ProfilesDictionary): [string, string][] {
  return attributes.map((kv) => [
    kv.key !== '' ? kv.key : (dict.stringTable[kv.keyStrindex ?? 0] ?? ''),
    anyValueText(kv.value, dict),
  ]);
}

function hexBigInt(bytes: Uint8Array): bigint | null {
  if (bytes.length === 0 || bytes.every((b) => b === 0)) return null;
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

class RequestResolver {
  private readonly leafOfStack: Int32Array;
  /** Per location: its frame ids root-first (inlined lines expand into several frames). */
  private readonly framesOfLocation = new Map<number, number[]>();
  private readonly attributeSetOfList = new Map<string, number>();

  constructor(
    private readonly dict: ProfilesDictionary,
    private readonly store: StoreDictionary,
  ) {
    this.leafOfStack = new Int32Array(dict.stackTable.length).fill(-1);
  }

  leaf(stackIndex: number): number {
    const known = this.leafOfStack[stackIndex]!;
    if (known >= 0) return known;
    const locations = this.dict.stackTable[stackIndex]!.locationIndices;
    let node = 0;
    for (let i = locations.length - 1; i >= 0; i--)
      for (const frame of this.locationFrames(locations[i]!)) node = this.store.childNode(node, frame);
    this.leafOfStack[stackIndex] = node;
    return node;
  }

  attributeSet(indices: readonly number[]): number {
    if (indices.length === 0) return 0;
    const key = indices.join(',');
    let id = this.attributeSetOfList.get(key);
    if (id === undefined) {
      id = this.store.attributeSetId(sortedLabels(attributeLabels(this.dict, indices)));
      this.attributeSetOfList.set(key, id);
    }
    return id;
  }

  private locationFrames(index: number): number[] {
    let frames = this.framesOfLocation.get(index);
    if (frames) return frames;
    const d = this.dict;
    const loc = d.locationTable[index]!;
    let frameType = '';
    for (const [k, v] of attributeLabels(d, loc.attributeIndices))
      if (k === FRAME_TYPE_ATTRIBUTE) frameType = v;
    const mapping =
      loc.mappingIndex !== 0 ? (d.stringTable[d.mappingTable[loc.mappingIndex]!.filenameStrindex] ?? '') : '';
    if (loc.lines.length === 0) {
      frames = [
        this.store.frameId({ name: unsymbolizedName(mapping, loc.address), frameType, file: '', mapping }),
      ];
    } else {
      // lines[0] is the innermost inlined function: root-first order is the reverse.
      frames = loc.lines
        .map((line) => {
          const fn = d.functionTable[line.functionIndex]!;
          const name =
            d.stringTable[fn.nameStrindex] ||
            d.stringTable[fn.systemNameStrindex] ||
            unsymbolizedName(mapping, loc.address);
          return this.store.frameId({
            name,
            frameType,
            file: d.stringTable[fn.filenameStrindex] ?? '',
            mapping,
          });
        })
        .reverse();
    }
    this.framesOfLocation.set(index, frames);
    return frames;
  }
}

/** Resolves the accepted profiles (`accepted(ri, si, pi)`) of `request` into rows; mutates `store`. */
export function resolveRequestRows(
  request: ExportProfilesServiceRequest,
  store: StoreDictionary,
  accepted: (ri: number, si: number, pi: number) => boolean,
): SampleRows {
  const dict = request.dictionary;
  const resolver = new RequestResolver(dict, store);
  const merged = new Map<string, PendingRow>();
  request.resourceProfiles.forEach((rp, ri) => {
    const resource = resourceLabels(rp.resource?.attributes ?? [], dict);
    rp.scopeProfiles.forEach((sp, si) => {
      sp.profiles.forEach((p, pi) => {
        if (!accepted(ri, si, pi)) return;
        const series = seriesOf(p, dict, store, resource, sp.scope?.name ?? '', sp.scope?.version ?? '');
        for (const s of p.samples) {
          const node = resolver.leaf(s.stackIndex);
          const attrs = resolver.attributeSet(s.attributeIndices);
          const add = (time: bigint, value: bigint): void => {
            const key = `${time}|${node}|${series}|${attrs}|${s.linkIndex}`;
            const row = merged.get(key);
            if (row) row.value += value;
            else merged.set(key, { time, value, node, series, attrs, link: s.linkIndex });
          };
          if (s.timestampsUnixNano.length === 0) add(p.timeUnixNano, s.values[0] ?? 0n);
          else s.timestampsUnixNano.forEach((t, i) => add(t, s.values.length > 0 ? s.values[i]! : 1n));
        }
      });
    });
  });
  const rows = [...merged.values()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0));
  const out = allocateRows(rows.length);
  const links = dict.linkTable.map((l) => ({ trace: hexBigInt(l.traceId), span: hexBigInt(l.spanId) }));
  rows.forEach((r, i) => {
    out.time[i] = r.time;
    out.value[i] = r.value;
    out.node[i] = r.node;
    out.series[i] = r.series;
    out.attrs[i] = r.attrs;
    const link = r.link !== 0 ? links[r.link] : undefined;
    out.traceId[i] = link?.trace ?? null;
    out.spanId[i] = link?.trace != null ? link.span : null;
  });
  return out;
}

function seriesOf(
  p: Profile,
  dict: ProfilesDictionary,
  store: StoreDictionary,
  resource: readonly [string, string][],
  scopeName: string,
  scopeVersion: string,
): number {
  const str = (i: number | undefined): string => (i === undefined ? '' : (dict.stringTable[i] ?? ''));
  return store.seriesId({
    sampleType: p.sampleType ? str(p.sampleType.typeStrindex) : 'samples',
    sampleUnit: p.sampleType ? str(p.sampleType.unitStrindex) : 'count',
    periodType: str(p.periodType?.typeStrindex),
    periodUnit: str(p.periodType?.unitStrindex),
    period: p.period,
    scopeName,
    scopeVersion,
    labels: sortedLabels([...resource, ...attributeLabels(dict, p.attributeIndices)]),
  });
}

/** The rows of several requests in one set, in the given order (one append for a group commit). */
export function concatRows(parts: readonly SampleRows[]): SampleRows {
  if (parts.length === 1) return parts[0]!;
  const out = allocateRows(parts.reduce((a, p) => a + p.count, 0));
  let at = 0;
  for (const p of parts) {
    out.time.set(p.time, at);
    out.value.set(p.value, at);
    out.node.set(p.node, at);
    out.series.set(p.series, at);
    out.attrs.set(p.attrs, at);
    for (let i = 0; i < p.count; i++) {
      out.traceId[at + i] = p.traceId[i] ?? null;
      out.spanId[at + i] = p.spanId[i] ?? null;
    }
    at += p.count;
  }
  return out;
}

/** Columns for `n` sample rows, filled by the caller. */
function allocateRows(n: number): SampleRows {
  return {
    count: n,
    time: new BigInt64Array(n),
    value: new BigInt64Array(n),
    node: new Int32Array(n),
    series: new Int32Array(n),
    attrs: new Int32Array(n),
    traceId: new Array<bigint | null>(n),
    spanId: new Array<bigint | null>(n),
  };
}
