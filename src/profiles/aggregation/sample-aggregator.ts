import type { FieldValue, GadgetRow } from '../../rows/gadget-row.js';
import type { FieldAccessor } from '../../rows/gadget-row.js';
import { fieldAccessor, getField, readFields } from '../../rows/gadget-row.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import type { RowBatch } from '../../rows/row-batch.js';
import type { Counters } from '../../observability/counters.js';
import { AgingMap } from '../../util/aging-map.js';
import type { AnyValue } from '../model/otlp-model.js';
import { SPAN_ID_BYTES, TRACE_ID_BYTES } from '../model/otlp-ids.js';
import type { ResourceObservation, ResourceResolver } from './resource-attributes.js';
import { fieldToAnyValue, sampleAttributeName } from './resource-attributes.js';
import type { Frame, InternedFrame } from './stack-frames.js';
import { FrameTable, parseKernelFrames, parseUserFrames, placeholderFrame } from './stack-frames.js';
import type { StackFieldPlan } from './stack-field-plan.js';
import { stackFieldPlan, stackKeyFields } from './stack-field-plan.js';
import type { RowDropReason, SampleValue } from './row-checks.js';
import { addSampleValues, sampleValueOf } from './row-checks.js';
import { StringInterner } from '../../util/string-interner.js';
import { isPrimitiveTuple, TupleTrie } from '../../util/tuple-trie.js';

/**
 * The ingest hot path: folds row batches into per-resource, per-profile sample tables until the
 * next flush. No I/O happens here. Rows whose resource, stack, sample attributes and link agree
 * are merged (IG splits rows by kernel_ip and thread); each fetch keeps its own value and
 * timestamp so the generator can emit per-fetch or fully merged samples.
 */

/**
 * Parsed stacks (and their strings and frames) unused for this many flushes are forgotten. Parsing
 * a stack costs ~100 µs, and most stacks recur within a few flushes; memory stays bounded by the
 * distinct stacks of this many consecutive flushes plus STACK_RETENTION_CHARS of older ones.
 */
export const STACK_CACHE_GENERATIONS = 2;
/**
 * Raw stack text (characters of a stack's strings, summed over stacks) of the parsed stacks kept
 * beyond those generations, oldest flushes given up first. Stacks of a Zipf-like workload's tail
 * recur every few flushes; with two generations only, the bench capture parsed ~5× as many stacks as
 * it has. Measured on it, a kept stack costs ~2.4 heap bytes per text character (its strings, frames
 * and cache entries), so this holds ≤ ~10 MB on top of the last flushes' stacks.
 */
export const STACK_RETENTION_CHARS = 4 * 1024 * 1024;
/** Parsed stacks remembered at most, keyed by the ids of their raw strings; past it new stacks are parsed but not remembered. */
const STACK_CACHE_LIMIT = 200_000;
/** Reader of the pid a sample is keyed by when resources are not per process. */
const readPid = fieldAccessor('proc.pid');
/**
 * Sample attribute lists remembered (by their values, across flushes); past it the cache starts
 * over. Samples of one container or process share a list, so there are about as many as resources.
 */
const ATTRIBUTE_LIST_CACHE_LIMIT = 65_536;
/** Estimated encoded bytes of one per-fetch value with its timestamp. */
const BYTES_PER_VALUE_ESTIMATE = 16;
/** Estimated encoded bytes of a Sample's envelope, stack index and attribute indices. */
const BYTES_PER_SAMPLE_ESTIMATE = 24;

export interface SampleEntry {
  readonly frames: readonly Frame[];
  /** Sample attributes as [semantic-convention key, value]; samples with equal ones share the (frozen) list. */
  readonly attributes: SampleAttributes;
  /** Both set (a link) or both undefined. Always present, so every entry has one shape. */
  readonly traceId: Uint8Array | undefined;
  readonly spanId: Uint8Array | undefined;
  /**
   * Per fetch: summed value (exact, int64) and the fetch window start. A sum that would pass int64
   * continues in a further value with the same timestamp: never wrapped.
   */
  readonly values: SampleValue[];
  readonly timestamps: bigint[];
  /** Sequence number of the batch that last added to values (merges rows within one fetch). */
  lastBatch: number;
  /** Rows that had no frame and carry the placeholder. */
  readonly placeholder: boolean;
}

export type SampleAttributes = readonly (readonly [string, AnyValue])[];

export interface ProfileEntry {
  readonly spec: ProfileSpec;
  readonly samples: Map<string, SampleEntry>;
  windowStart: bigint;
  windowEnd: bigint;
}

export interface ResourceEntry {
  readonly observation: ResourceObservation;
  readonly profiles: Map<string, ProfileEntry>;
}

/** What a flush hands to the generator. */
export interface AggregateSnapshot {
  readonly resources: ReadonlyMap<string, ResourceEntry>;
  readonly rows: number;
  readonly samples: number;
  readonly totalValue: bigint;
}

export interface SampleAggregatorOptions {
  readonly resources: ResourceResolver;
  readonly counters: Counters;
  /** Counter label naming the exporter this aggregator feeds. */
  readonly exporter: string;
}

/**
 * Every row field an aggregator reads for rows of `spec` (its resolver's fields aside: see
 * resourceFieldsRead): the gRPC decoder need not decode the others.
 */
export function aggregatorFieldsRead(spec: ProfileSpec): string[] {
  return [
    spec.valueField,
    ...stackFieldPlan(spec).flatMap((plan) => plan.names),
    ...spec.sampleAttributeFields,
    'proc.pid',
    ...(spec.traceIdField !== undefined ? [spec.traceIdField] : []),
    ...(spec.spanIdField !== undefined ? [spec.spanIdField] : []),
  ];
}

/** A field value as part of a grouping key; objects and arrays by content. */
function keyPart(value: FieldValue | undefined): string {
  if (value === null || typeof value !== 'object') return String(value);
  return JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

function specKey(spec: ProfileSpec): string {
  return `${spec.datasource}\u0000${spec.profileName}\u0000${spec.sampleType.type}/${spec.sampleType.unit}\u0000${spec.periodType?.type ?? ''}/${spec.periodType?.unit ?? ''}/${spec.period ?? ''}`;
}

function hexBytes(value: FieldValue | undefined, length: number): Uint8Array | undefined {
  if (typeof value === 'string') {
    const hex = value.startsWith('0x') ? value.slice(2) : value;
    if (hex.length === length * 2 && /^[0-9a-fA-F]+$/.test(hex) && !/^0+$/.test(hex))
      return Buffer.from(hex, 'hex');
    return undefined;
  }
  if (Array.isArray(value) && value.length === length && value.every((b) => typeof b === 'number')) {
    const bytes = Uint8Array.from(value);
    return bytes.some((b) => b !== 0) ? bytes : undefined;
  }
  if (
    (typeof value === 'number' || typeof value === 'bigint') &&
    length === 8 &&
    value !== 0 &&
    value !== 0n
  ) {
    const buf = Buffer.alloc(8);
    buf.writeBigUInt64BE(BigInt(value));
    return buf;
  }
  return undefined;
}

/** A row's stack identity, remembered for the rest of the flush by the values of its stack fields. */
interface RowStack {
  readonly key: string;
  readonly chars: number;
}

/** A parsed stack and the FrameTable cells of its frames (marked as used whenever the stack is). */
interface CachedStack {
  readonly frames: readonly Frame[];
  readonly cells: readonly InternedFrame[];
  /** Raw text length of the stack's strings (its retention weight). */
  readonly chars: number;
}

export class SampleAggregator {
  private readonly _resolver: ResourceResolver;
  private readonly _counters: Counters;
  private readonly _labels: Readonly<Record<string, string>>;
  private readonly _frames = new FrameTable(STACK_CACHE_GENERATIONS);
  /**
   * Parsed stacks of recent flushes. A stack kept from an earlier flush marks its frames as used, so
   * they stay in the FrameTable as long as the stack is cached: equal frames stay one object within
   * a flush (the generator deduplicates locations by frame identity).
   */
  private readonly _stackCache = new AgingMap<string, CachedStack>(STACK_CACHE_GENERATIONS, {
    onRevive: (stack) => this._frames.touch(stack.cells),
    retention: { budget: STACK_RETENTION_CHARS, weigh: (stack) => stack.chars },
  });
  /**
   * Stack strings (often kilobytes) → small ids, so sample keys stay short: a lookup never copies
   * the string, where concatenating them into a key would copy every row. Ids are never reused, so
   * a stack key means the same stack for as long as it is cached.
   */
  private readonly _stackStrings = new StringInterner(STACK_CACHE_GENERATIONS);
  /** Raw text length of the stack strings of the row _stackKey last keyed. */
  private _rowStackChars = 0;
  /**
   * This flush's keys, by the values they are made of (see tuple-trie.ts): rows repeat the same
   * field values, so most rows find their resource, stack and sample without building a key string.
   * The string keys stay the identities (they merge values equal by content); these only memoise them.
   */
  private _resourceByFields = new TupleTrie<ResourceEntry>();
  private _stackByFields = new TupleTrie<RowStack>();
  /** Keyed by [profile entry, stack key, sample attribute values…, pid?, trace id?, span id?]. */
  private _sampleByFields = new TupleTrie<SampleEntry>();
  /** Reused lookup tuples: the hot path allocates none. */
  private readonly _resourceTuple: unknown[] = [];
  private readonly _stackTuple: unknown[] = [];
  private readonly _sampleTuple: unknown[] = [];
  /** Sample attribute lists by [spec, attribute values…, pid (unless per process)], across flushes. */
  private readonly _attributeLists = new TupleTrie<SampleAttributes>();
  private readonly _attributeTuple: unknown[] = [];
  /** Stack keys already counted in this flush's size estimate. */
  private _flushStacks = new Set<string>();
  private _resources = new Map<string, ResourceEntry>();
  private _batchSeq = 0;
  private _rows = 0;
  private _samples = 0;
  /** Sum of the values added since the last drain: a number while exact, carried into the bigint beyond. */
  private _totalValue = 0;
  private _totalValueCarry = 0n;
  private _pendingBytes = 0;

  constructor(options: SampleAggregatorOptions) {
    this._resolver = options.resources;
    this._counters = options.counters;
    this._labels = { exporter: options.exporter };
  }

  /** Per-fetch values pending (the early-flush threshold compares against this). */
  get pendingSamples(): number {
    return this._samples;
  }

  get pendingRows(): number {
    return this._rows;
  }

  /**
   * A cheap upper-bound estimate of the encoded request the pending data becomes: the raw text of
   * each distinct stack (the dictionary grows with it) plus a fixed cost per value.
   */
  get pendingBytesEstimate(): number {
    return this._pendingBytes;
  }

  add(batch: RowBatch): void {
    const spec = batch.spec;
    const seq = ++this._batchSeq;
    const pKey = specKey(spec);
    const start = batch.windowStartUnixNano;
    // A window must be non-empty so that its start lies inside [time, time + duration).
    const end = batch.windowEndUnixNano > start ? batch.windowEndUnixNano : start + 1n;
    // Compiled readers, looked up once per batch: fields are read per row.
    const readValue = fieldAccessor(spec.valueField);
    const readAttributes = spec.sampleAttributeFields.map(fieldAccessor);
    const readTraceId = spec.traceIdField ? fieldAccessor(spec.traceIdField) : undefined;
    const readSpanId = readTraceId ? fieldAccessor(spec.spanIdField ?? '') : undefined;
    const stackPlan = stackFieldPlan(spec);
    const stackFields = stackKeyFields(stackPlan);
    const perProcess = this._resolver.perProcess;
    let dropped: Map<RowDropReason, number> | undefined;
    let zero = 0;
    // Counted per row, added once per batch: a counter update builds a labelled key.
    let withoutFrames = 0;

    for (const row of batch.rows) {
      const raw = readValue(row);
      // Safe integers, the common case, skip the general check.
      const value =
        typeof raw === 'number' && raw >= 0 && Number.isSafeInteger(raw)
          ? raw
          : sampleValueOf(raw, spec.valueField);
      // Sources pass through withRowChecks, which drops and reports such rows first (with stacks
      // that are not text): this keeps the count exact for any other caller.
      if (typeof value === 'object') {
        dropped ??= new Map();
        dropped.set(value.reason, (dropped.get(value.reason) ?? 0) + 1);
        continue;
      }
      if (value === 0 || value === 0n) {
        zero++;
        continue;
      }

      const resource = this._resourceOf(row);
      let profile = resource.profiles.get(pKey);
      if (!profile) {
        profile = { spec, samples: new Map(), windowStart: start, windowEnd: end };
        resource.profiles.set(pKey, profile);
      } else {
        if (start < profile.windowStart) profile.windowStart = start;
        if (end > profile.windowEnd) profile.windowEnd = end;
      }

      const stackKey = this._stackKey(row, stackFields);
      // The sample's identity: [profile, stack, attribute values, pid (unless per process), link].
      const tuple = this._sampleTuple;
      tuple.length = 0;
      tuple.push(profile, stackKey);
      for (const read of readAttributes) tuple.push(read(row));
      if (!perProcess) tuple.push(readPid(row));
      if (readTraceId && readSpanId) tuple.push(readTraceId(row), readSpanId(row));

      let sample = this._sampleByFields.get(tuple);
      if (!sample) {
        let sampleKey = stackKey;
        let at = 2;
        for (; at < 2 + readAttributes.length; at++) sampleKey += `\u0002${keyPart(tuple[at] as FieldValue)}`;
        if (!perProcess) sampleKey += `\u0003${keyPart(tuple[at++] as FieldValue)}`;
        if (readTraceId)
          sampleKey += `\u0004${keyPart(tuple[at] as FieldValue)}/${keyPart(tuple[at + 1] as FieldValue)}`;
        sample = profile.samples.get(sampleKey);
        if (!sample) {
          sample = this._newSample(row, spec, stackPlan, stackKey, readAttributes);
          profile.samples.set(sampleKey, sample);
          this._pendingBytes += BYTES_PER_SAMPLE_ESTIMATE;
          if (!this._flushStacks.has(stackKey)) {
            // A new stack brings its frames into the dictionary: its raw text bounds their size.
            this._flushStacks.add(stackKey);
            this._pendingBytes += this._rowStackChars;
          }
        }
        // The profile entry (first) is the one object that does recur by identity.
        if (isPrimitiveTuple(tuple, 1)) this._sampleByFields.set(tuple, sample);
      }
      const last = sample.values.length - 1;
      const sum = sample.lastBatch === seq ? addSampleValues(sample.values[last] ?? 0, value) : undefined;
      if (sum !== undefined) sample.values[last] = sum;
      else {
        sample.values.push(value);
        sample.timestamps.push(start);
        sample.lastBatch = seq;
        this._samples++;
        this._pendingBytes += BYTES_PER_VALUE_ESTIMATE;
      }
      if (sample.placeholder) withoutFrames++;
      this._rows++;
      this._addToTotal(value);
    }
    if (dropped) {
      for (const [reason, count] of dropped)
        this._counters.add('rows_dropped', count, { ...this._labels, reason });
    }
    if (zero) this._counters.add('rows_zero_value', zero, this._labels);
    if (withoutFrames) this._counters.add('rows_without_frames', withoutFrames, this._labels);
  }

  /** Hands over everything aggregated since the last drain and starts afresh. */
  drain(): AggregateSnapshot {
    const snapshot: AggregateSnapshot = {
      resources: this._resources,
      rows: this._rows,
      samples: this._samples,
      totalValue: this._totalValueCarry + BigInt(this._totalValue),
    };
    this._resources = new Map();
    this._resourceByFields = new TupleTrie();
    this._stackByFields = new TupleTrie();
    this._sampleByFields = new TupleTrie();
    // The caches keep a few flushes (and older stacks within the retention budget): memory stays
    // bounded, and stacks that recur (most of them) are parsed once instead of once per flush.
    // Frames and strings of every stack kept stay too: a kept stack's frames must remain the ones
    // interning returns (identity dedup), and its key must keep meaning the same string ids. The
    // three advance only here, together, so their generation numbers agree and `keepFrom` applies.
    const keepFrom = this._stackCache.advance();
    this._frames.advance(keepFrom);
    this._stackStrings.advance(keepFrom);
    this._flushStacks = new Set();
    this._rows = 0;
    this._samples = 0;
    this._totalValue = 0;
    this._totalValueCarry = 0n;
    this._pendingBytes = 0;
    return snapshot;
  }

  private _addToTotal(value: SampleValue): void {
    if (typeof value === 'number' && this._totalValue <= Number.MAX_SAFE_INTEGER - value) {
      this._totalValue += value;
      return;
    }
    this._totalValueCarry += BigInt(this._totalValue) + BigInt(value);
    this._totalValue = 0;
  }

  private _stringId(value: FieldValue | undefined): number {
    if (typeof value !== 'string' || value === '') return 0;
    this._rowStackChars += value.length;
    return this._stackStrings.idOf(value);
  }

  /** The resource a row belongs to (the resolver's key decides; created on first sight). */
  private _resourceOf(row: GadgetRow): ResourceEntry {
    const tuple = readFields(this._resourceTuple, this._resolver.keyFields, row);
    let resource = this._resourceByFields.get(tuple);
    if (resource === undefined) {
      const key = this._resolver.keyOf(row);
      resource = this._resources.get(key);
      if (resource === undefined) {
        resource = { observation: this._resolver.newObservation(row), profiles: new Map() };
        this._resources.set(key, resource);
      } else {
        this._resolver.observe(resource.observation, row);
      }
      if (isPrimitiveTuple(tuple)) this._resourceByFields.set(tuple, resource);
    } else {
      this._resolver.observe(resource.observation, row);
    }
    return resource;
  }

  /**
   * The stack identity of a row: ids of its stack strings (and of the user stack's sibling fields),
   * in the order of `stackKeyFields`. Sets `_rowStackChars`.
   */
  private _stackKey(row: GadgetRow, fields: readonly FieldAccessor[]): string {
    const tuple = readFields(this._stackTuple, fields, row);
    const known = this._stackByFields.get(tuple);
    if (known !== undefined) {
      this._rowStackChars = known.chars;
      return known.key;
    }
    let key = '';
    this._rowStackChars = 0;
    for (let i = 0; i < tuple.length; i++) key += `${this._stringId(tuple[i] as FieldValue)},`;
    if (isPrimitiveTuple(tuple)) this._stackByFields.set(tuple, { key, chars: this._rowStackChars });
    return key;
  }

  private _framesOf(row: GadgetRow, plan: readonly StackFieldPlan[], cacheKey: string): readonly Frame[] {
    const cached = this._stackCache.get(cacheKey);
    if (cached) return cached.frames;
    const frames: Frame[] = [];
    const cells: InternedFrame[] = [];
    const interner = this._frames.recording(cells);
    for (const { read, kernel, siblings } of plan) {
      const v = read(row);
      if (typeof v !== 'string' || v === '') continue;
      if (kernel) {
        frames.push(...parseKernelFrames(v, interner));
      } else {
        const addresses = siblings ? siblings.addresses(row) : undefined;
        const buildIds = siblings ? siblings.buildId(row) : undefined;
        frames.push(
          ...parseUserFrames(
            v,
            typeof addresses === 'string' ? addresses : undefined,
            typeof buildIds === 'string' ? buildIds : undefined,
            interner,
          ),
        );
      }
    }
    // Past the limit new stacks are parsed but not remembered until drains age the cache.
    if (this._stackCache.size < STACK_CACHE_LIMIT)
      this._stackCache.set(cacheKey, { frames, cells, chars: this._rowStackChars });
    return frames;
  }

  /** A row's sample attributes: one shared list per spec and distinct values (built once). */
  private _attributesOf(
    row: GadgetRow,
    spec: ProfileSpec,
    readAttributes: readonly FieldAccessor[],
  ): SampleAttributes {
    const tuple = this._attributeTuple;
    tuple.length = 0;
    tuple.push(spec);
    for (const read of readAttributes) tuple.push(read(row));
    if (!this._resolver.perProcess) tuple.push(readPid(row));
    const cacheable = isPrimitiveTuple(tuple, 1);
    if (cacheable) {
      const known = this._attributeLists.get(tuple);
      if (known !== undefined) return known;
    }
    const attributes: [string, AnyValue][] = [];
    const push = (key: string, value: AnyValue | undefined): void => {
      // First one wins; a linear scan: a sample has a handful of attributes.
      if (value !== undefined && !attributes.some(([k]) => k === key)) attributes.push([key, value]);
    };
    spec.sampleAttributeFields.forEach((field, i) =>
      push(sampleAttributeName(field), fieldToAnyValue(tuple[1 + i] as FieldValue | undefined)),
    );
    if (!this._resolver.perProcess) {
      push('process.pid', fieldToAnyValue(tuple[1 + readAttributes.length] as FieldValue | undefined));
    }
    const list = Object.freeze(attributes);
    if (cacheable) {
      if (this._attributeLists.size >= ATTRIBUTE_LIST_CACHE_LIMIT) this._attributeLists.clear();
      this._attributeLists.set(tuple, list);
    }
    return list;
  }

  private _newSample(
    row: GadgetRow,
    spec: ProfileSpec,
    stackPlan: readonly StackFieldPlan[],
    stackKey: string,
    readAttributes: readonly FieldAccessor[],
  ): SampleEntry {
    let frames = this._framesOf(row, stackPlan, stackKey);
    const placeholder = frames.length === 0;
    if (placeholder) frames = [placeholderFrame(this._frames)];
    const attributes = this._attributesOf(row, spec, readAttributes);
    const traceId = spec.traceIdField
      ? hexBytes(getField(row, spec.traceIdField), TRACE_ID_BYTES)
      : undefined;
    const spanId = spec.spanIdField ? hexBytes(getField(row, spec.spanIdField), SPAN_ID_BYTES) : undefined;
    if (spec.traceIdField && (!traceId || !spanId)) {
      const t = getField(row, spec.traceIdField);
      // All-zero / empty ids mean "no trace"; anything else malformed is worth counting.
      if (
        t !== undefined &&
        t !== '' &&
        t !== 0 &&
        hexBytes(t, TRACE_ID_BYTES) === undefined &&
        !/^0*$/.test(keyPart(t))
      ) {
        this._counters.add('links_invalid', 1, this._labels);
      }
    }
    const linked = traceId !== undefined && spanId !== undefined;
    return {
      frames,
      attributes,
      traceId: linked ? traceId : undefined,
      spanId: linked ? spanId : undefined,
      values: [],
      timestamps: [],
      lastBatch: 0,
      placeholder,
    };
  }
}
