import type {
  ExportProfilesServiceRequest,
  KeyValue,
  Profile,
  ProfilesDictionary,
} from '../profiles/model/otlp-model.js';
import { keyValueKey } from '../profiles/model/any-value-key.js';
import { anyValueText } from '../profiles/pprof/otlp-to-pprof.js';
import { FRAME_TYPE_ATTRIBUTE } from '../profiles/request/request-generator.js';
import type { Labels, StoreDictionary } from './store-dictionary.js';
import { grownArray } from '../util/grown-array.js';

/**
 * Turns the accepted profiles of a (validated) request into sample rows over the store's dictionary:
 * every stack becomes one leaf of the global prefix tree, every resource + scope + profile type one
 * series, every sample attribute list one attribute set. Rows that share (time, stack, series, attribute
 * set, link) are summed (unless the sum would not fit the int64 column: then they stay apart, and
 * queries add them exactly), and the rows come out sorted by time (DuckDB prunes row groups by time).
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

function resourceKey(kv: KeyValue, dict: ProfilesDictionary): string {
  return kv.key !== '' ? kv.key : (dict.stringTable[kv.keyStrindex ?? 0] ?? '');
}

function resourceLabels(attributes: readonly KeyValue[], dict: ProfilesDictionary): [string, string][] {
  return attributes.map((kv) => [resourceKey(kv, dict), anyValueText(kv.value, dict)]);
}

/**
 * A request's spelling of a resource's attributes: the typed identity of each pair, in sent order
 * (prefix-free, so the list joined is too). Equal spellings are equal attribute lists.
 */
function resourceSpelling(attributes: readonly KeyValue[], dict: ProfilesDictionary): string {
  let out = '';
  for (const kv of attributes) out += `${keyValueKey(resourceKey(kv, dict), kv.value, dict.stringTable)},`;
  return out;
}

function hexBigInt(bytes: Uint8Array): bigint | null {
  if (bytes.length === 0 || bytes.every((b) => b === 0)) return null;
  return BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
}

/** Marks in `frameOfLocation`: not resolved yet, or resolved to several frames (inlined lines). */
const UNRESOLVED = -1;
const SEVERAL_FRAMES = -2;

class RequestResolver {
  private readonly leafOfStack: Int32Array;
  /** Per location: its one frame id, or a mark. */
  private readonly frameOfLocation: Int32Array;
  /** Frame ids root-first of the locations marked SEVERAL_FRAMES. */
  private readonly framesOfLocation = new Map<number, number[]>();
  /** Attribute set per single attribute index (most samples carry one list of one). */
  private readonly attributeSetOfIndex: Int32Array;
  private readonly attributeSetOfList = new Map<string, number>();
  /** The frames of the stack being resolved, root first. */
  private stackFrames = new Int32Array(256);

  constructor(
    private readonly dict: ProfilesDictionary,
    private readonly store: StoreDictionary,
  ) {
    this.leafOfStack = new Int32Array(dict.stackTable.length).fill(-1);
    this.frameOfLocation = new Int32Array(dict.locationTable.length).fill(UNRESOLVED);
    this.attributeSetOfIndex = new Int32Array(dict.attributeTable.length).fill(-1);
  }

  leaf(stackIndex: number): number {
    const known = this.leafOfStack[stackIndex]!;
    if (known >= 0) return known;
    const locations = this.dict.stackTable[stackIndex]!.locationIndices;
    let n = 0;
    for (let i = locations.length - 1; i >= 0; i--) {
      const location = locations[i]!;
      let frame = this.frameOfLocation[location]!;
      if (frame === UNRESOLVED) frame = this.resolveLocation(location);
      if (frame !== SEVERAL_FRAMES) {
        if (n === this.stackFrames.length) this.stackFrames = grownArray(this.stackFrames);
        this.stackFrames[n++] = frame;
      } else {
        const frames = this.framesOfLocation.get(location)!;
        if (n + frames.length > this.stackFrames.length)
          this.stackFrames = grownArray(this.stackFrames, n + frames.length);
        for (const f of frames) this.stackFrames[n++] = f;
      }
    }
    const node = this.store.stackLeaf(this.stackFrames, n);
    this.leafOfStack[stackIndex] = node;
    return node;
  }

  attributeSet(indices: readonly number[]): number {
    if (indices.length === 0) return 0;
    if (indices.length === 1) {
      const index = indices[0]!;
      let id = this.attributeSetOfIndex[index]!;
      if (id < 0) this.attributeSetOfIndex[index] = id = this.attributeSetOf(indices);
      return id;
    }
    const key = indices.join(',');
    let id = this.attributeSetOfList.get(key);
    if (id === undefined) {
      id = this.attributeSetOf(indices);
      this.attributeSetOfList.set(key, id);
    }
    return id;
  }

  private attributeSetOf(indices: readonly number[]): number {
    return this.store.attributeSetId(sortedLabels(attributeLabels(this.dict, indices)));
  }

  /** Resolves a location to its frame id (or SEVERAL_FRAMES, its ids in framesOfLocation). */
  private resolveLocation(index: number): number {
    const d = this.dict;
    const loc = d.locationTable[index]!;
    let frameType = '';
    for (const [k, v] of attributeLabels(d, loc.attributeIndices))
      if (k === FRAME_TYPE_ATTRIBUTE) frameType = v;
    const mapping =
      loc.mappingIndex !== 0 ? (d.stringTable[d.mappingTable[loc.mappingIndex]!.filenameStrindex] ?? '') : '';
    let frame: number;
    if (loc.lines.length === 0) {
      frame = this.store.frameId({
        name: unsymbolizedName(mapping, loc.address),
        frameType,
        file: '',
        mapping,
      });
    } else {
      // lines[0] is the innermost inlined function: root-first order is the reverse.
      const frames = loc.lines
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
      if (frames.length === 1) frame = frames[0]!;
      else {
        this.framesOfLocation.set(index, frames);
        frame = SEVERAL_FRAMES;
      }
    }
    this.frameOfLocation[index] = frame;
    return frame;
  }
}

/**
 * Sample rows in arrival order; `finish` sorts them by time and sums rows of one key. The columns are
 * plain arrays of the decoded values (no string key or object per row: this runs once per sample).
 */
class RowCollector {
  private readonly time: bigint[] = [];
  private readonly value: bigint[] = [];
  private readonly node: number[] = [];
  private readonly series: number[] = [];
  private readonly attrs: number[] = [];
  private readonly link: number[] = [];

  push(time: bigint, value: bigint, node: number, series: number, attrs: number, link: number): void {
    this.time.push(time);
    this.value.push(value);
    this.node.push(node);
    this.series.push(series);
    this.attrs.push(attrs);
    this.link.push(link);
  }

  /** The rows sorted by (time, node, series, attrs, link), equal keys summed while the sum fits int64. */
  finish(links: readonly { trace: bigint | null; span: bigint | null }[]): SampleRows {
    const { time, value, node, series, attrs, link } = this;
    const order = Array.from({ length: time.length }, (_, i) => i);
    order.sort((a, b) => {
      const ta = time[a]!;
      const tb = time[b]!;
      if (ta !== tb) return ta < tb ? -1 : 1;
      return node[a]! - node[b]! || series[a]! - series[b]! || attrs[a]! - attrs[b]! || link[a]! - link[b]!;
    });
    const out = allocateRows(order.length);
    let n = 0;
    // `order[0..n)` becomes the source row of each output row (written behind the loop's reads).
    for (const r of order) {
      const prev = n > 0 ? order[n - 1]! : -1;
      if (
        prev >= 0 &&
        time[prev] === time[r] &&
        node[prev] === node[r] &&
        series[prev] === series[r] &&
        attrs[prev] === attrs[r] &&
        link[prev] === link[r]
      ) {
        const sum = out.value[n - 1]! + value[r]!;
        // A sum beyond int64 stays two rows: the column cannot hold it, and queries add exactly.
        if (BigInt.asIntN(64, sum) === sum) {
          out.value[n - 1] = sum;
          continue;
        }
      }
      out.time[n] = time[r]!;
      out.value[n] = value[r]!;
      out.node[n] = node[r]!;
      out.series[n] = series[r]!;
      out.attrs[n] = attrs[r]!;
      const l = link[r]! !== 0 ? links[link[r]!] : undefined;
      out.traceId[n] = l?.trace ?? null;
      out.spanId[n] = l?.trace != null ? l.span : null;
      order[n] = r;
      n++;
    }
    return n === order.length ? out : sliceRows(out, n);
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
  const rows = new RowCollector();
  request.resourceProfiles.forEach((rp, ri) => {
    const attributes = rp.resource?.attributes ?? [];
    let spelling: string | undefined;
    rp.scopeProfiles.forEach((sp, si) => {
      sp.profiles.forEach((p, pi) => {
        if (!accepted(ri, si, pi)) return;
        spelling ??= resourceSpelling(attributes, dict);
        const series = seriesOf(
          p,
          dict,
          store,
          spelling,
          attributes,
          sp.scope?.name ?? '',
          sp.scope?.version ?? '',
        );
        for (const s of p.samples) {
          const node = resolver.leaf(s.stackIndex);
          const attrs = resolver.attributeSet(s.attributeIndices);
          const times = s.timestampsUnixNano;
          if (times.length === 0)
            rows.push(p.timeUnixNano, s.values[0] ?? 0n, node, series, attrs, s.linkIndex);
          else
            for (let i = 0; i < times.length; i++)
              rows.push(times[i]!, s.values.length > 0 ? s.values[i]! : 1n, node, series, attrs, s.linkIndex);
        }
      });
    });
  });
  return rows.finish(dict.linkTable.map((l) => ({ trace: hexBigInt(l.traceId), span: hexBigInt(l.spanId) })));
}

function stringAt(dict: ProfilesDictionary, index: number | undefined): string {
  return index === undefined ? '' : (dict.stringTable[index] ?? '');
}

function seriesOf(
  p: Profile,
  dict: ProfilesDictionary,
  store: StoreDictionary,
  resourceSpelling: string,
  resourceAttributes: readonly KeyValue[],
  scopeName: string,
  scopeVersion: string,
): number {
  const sampleType = p.sampleType ? stringAt(dict, p.sampleType.typeStrindex) : 'samples';
  const sampleUnit = p.sampleType ? stringAt(dict, p.sampleType.unitStrindex) : 'count';
  const periodType = stringAt(dict, p.periodType?.typeStrindex);
  const periodUnit = stringAt(dict, p.periodType?.unitStrindex);
  const head = JSON.stringify([
    sampleType,
    sampleUnit,
    periodType,
    periodUnit,
    `${p.period}`,
    scopeName,
    scopeVersion,
  ]);
  let profileAttributes = '';
  for (const ai of p.attributeIndices) {
    const attr = dict.attributeTable[ai]!;
    profileAttributes += `${keyValueKey(stringAt(dict, attr.keyStrindex), attr.value, dict.stringTable)},`;
  }
  // The JSON head holds no raw newline and the attribute spellings are prefix-free: the parts stay apart.
  return store.seriesIdBySpelling(`${head}\n${resourceSpelling}\n${profileAttributes}`, () => ({
    sampleType,
    sampleUnit,
    periodType,
    periodUnit,
    period: p.period,
    scopeName,
    scopeVersion,
    labels: sortedLabels([
      ...resourceLabels(resourceAttributes, dict),
      ...attributeLabels(dict, p.attributeIndices),
    ]),
  }));
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

/** The first `n` rows of `rows`. */
function sliceRows(rows: SampleRows, n: number): SampleRows {
  return {
    count: n,
    time: rows.time.subarray(0, n),
    value: rows.value.subarray(0, n),
    node: rows.node.subarray(0, n),
    series: rows.series.subarray(0, n),
    attrs: rows.attrs.subarray(0, n),
    traceId: rows.traceId.slice(0, n),
    spanId: rows.spanId.slice(0, n),
  };
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
