import type { DuckDBConnection } from '@duckdb/node-api';
import { ChildIndex } from './child-index.js';
import { framesHash, StackLeafCache } from './stack-leaf-cache.js';
import { grownArray } from '../util/grown-array.js';

/**
 * The in-memory mirror of the store's dictionary tables: frames, the global prefix tree of stacks
 * (parent-pointer nodes, child id > parent id), series and sample attribute sets, each with the map that
 * deduplicates it across requests. Rebuilt from the database on open, so ids stay stable across restarts;
 * its size follows the number of distinct frames, stack prefixes and series, not the number of samples.
 *
 * Additions happen before their transaction commits (queries never see a node id they cannot resolve);
 * `rollback` forgets them when the commit fails.
 */

/** Most distinct frames one store holds. */
const FRAME_KEY_SPAN = 2 ** 26;
const INITIAL_NODE_CAPACITY = 1 << 16;
/**
 * Request spellings of a series remembered at most (each ~1 KB for a pod's resource): beyond it they are
 * forgotten and re-learnt, the canonical key staying the identity.
 */
const MAX_SERIES_SPELLINGS = 16_384;

export type Labels = readonly (readonly [string, string])[];

export interface FrameInfo {
  readonly name: string;
  readonly frameType: string;
  readonly file: string;
  readonly mapping: string;
}

export interface SeriesInfo {
  readonly id: number;
  /** "sampleType/unit", the profile type id. */
  readonly typeId: string;
  readonly sampleType: string;
  readonly sampleUnit: string;
  readonly periodType: string;
  readonly periodUnit: string;
  readonly period: bigint;
  readonly scopeName: string;
  readonly scopeVersion: string;
  /** Resource attributes and profile attributes, sorted by key. */
  readonly labels: Labels;
}

export interface DictionaryMark {
  readonly frames: number;
  readonly nodes: number;
  readonly series: number;
  readonly attributeSets: number;
}

export function profileTypeId(sampleType: string, sampleUnit: string): string {
  return `${sampleType}/${sampleUnit}`;
}

/** The key deduplicating a label set: sorted pairs as JSON (also what the tables store). */
export function labelsKey(labels: Labels): string {
  return JSON.stringify(labels);
}

function frameKey(f: FrameInfo): string {
  return `${f.name}\u0000${f.frameType}\u0000${f.file}\u0000${f.mapping}`;
}

function seriesKey(s: Omit<SeriesInfo, 'id' | 'typeId'>): string {
  return JSON.stringify([
    s.sampleType,
    s.sampleUnit,
    s.periodType,
    s.periodUnit,
    s.period.toString(),
    s.scopeName,
    s.scopeVersion,
    s.labels,
  ]);
}

export class StoreDictionary {
  readonly frames: FrameInfo[] = [];
  private readonly frameIds = new Map<string, number>();
  /** Per node: parent id (-1 for the root, node 0) and frame id (-1 for the root). */
  nodeParent = new Int32Array(INITIAL_NODE_CAPACITY);
  nodeFrame = new Int32Array(INITIAL_NODE_CAPACITY);
  nodeCount = 1;
  /** Changes whenever the nodes do (one added, or forgotten by a rollback): what caches of the tree key on. */
  nodesVersion = 0;
  private readonly nodeIds = new ChildIndex();
  readonly series: SeriesInfo[] = [];
  private readonly seriesIds = new Map<string, number>();
  /** Series id by a request's own spelling of it (attributes in sent order): a shortcut past the canonical key. */
  private readonly seriesBySpelling = new Map<string, number>();
  private readonly stackLeaves = new StackLeafCache();
  /** Index 0: the empty set. */
  readonly attributeSets: Labels[] = [[]];
  private readonly attributeSetIds = new Map<string, number>([[labelsKey([]), 0]]);
  /**
   * Frames grouped by name: what "a function" means in top functions and sandwich. The same function can
   * show up as interpreted and as JIT-compiled native code; users look for it once. Its frame type is the
   * first one seen.
   */
  private functionOfFrame = new Int32Array(0);
  private readonly functionIds = new Map<string, number>();
  readonly functions: { name: string; frameType: string }[] = [];

  constructor() {
    this.nodeParent[0] = -1;
    this.nodeFrame[0] = -1;
  }

  mark(): DictionaryMark {
    return {
      frames: this.frames.length,
      nodes: this.nodeCount,
      series: this.series.length,
      attributeSets: this.attributeSets.length,
    };
  }

  frameId(frame: FrameInfo): number {
    const key = frameKey(frame);
    let id = this.frameIds.get(key);
    if (id === undefined) {
      id = this.frames.length;
      if (id >= FRAME_KEY_SPAN)
        throw new Error(`the store holds ${id} distinct frames, its limit; start a new --data directory`);
      this.frames.push(frame);
      this.frameIds.set(key, id);
    }
    return id;
  }

  /** The child of `parent` for `frame`, created when new. */
  childNode(parent: number, frame: number): number {
    const id = this.nodeIds.childOf(parent, frame, this.nodeCount, this.nodeParent, this.nodeFrame);
    if (id === this.nodeCount) this.pushNode(parent, frame);
    return id;
  }

  /**
   * The leaf node of the stack `frames[0..length)` (frame ids, root first), its nodes created when new.
   * Stacks met before skip the walk down the tree (stack-leaf-cache.ts).
   */
  stackLeaf(frames: Int32Array, length: number): number {
    const hash = framesHash(frames, length);
    let node = this.stackLeaves.get(frames, length, hash);
    if (node >= 0) return node;
    node = 0;
    for (let i = 0; i < length; i++) node = this.childNode(node, frames[i]!);
    this.stackLeaves.set(frames, length, hash, node);
    return node;
  }

  /**
   * The series a request spells as `spelling` (any string that determines the series: equal spellings
   * must describe equal series); `describe` builds it the first time that spelling is met.
   */
  seriesIdBySpelling(spelling: string, describe: () => Omit<SeriesInfo, 'id' | 'typeId'>): number {
    let id = this.seriesBySpelling.get(spelling);
    if (id === undefined) {
      id = this.seriesId(describe());
      if (this.seriesBySpelling.size === MAX_SERIES_SPELLINGS) this.seriesBySpelling.clear();
      this.seriesBySpelling.set(spelling, id);
    }
    return id;
  }

  seriesId(s: Omit<SeriesInfo, 'id' | 'typeId'>): number {
    const key = seriesKey(s);
    let id = this.seriesIds.get(key);
    if (id === undefined) {
      id = this.series.length;
      this.series.push({ ...s, id, typeId: profileTypeId(s.sampleType, s.sampleUnit) });
      this.seriesIds.set(key, id);
    }
    return id;
  }

  attributeSetId(labels: Labels): number {
    const key = labelsKey(labels);
    let id = this.attributeSetIds.get(key);
    if (id === undefined) {
      id = this.attributeSets.length;
      this.attributeSets.push(labels);
      this.attributeSetIds.set(key, id);
    }
    return id;
  }

  /** Forgets everything added after `mark` (its transaction did not commit). */
  rollback(mark: DictionaryMark): void {
    // The shortcuts may point at what is forgotten now; they refill from the next requests.
    this.stackLeaves.clear();
    if (mark.series < this.series.length) this.seriesBySpelling.clear();
    for (let i = mark.frames; i < this.frames.length; i++) this.frameIds.delete(frameKey(this.frames[i]!));
    this.frames.length = mark.frames;
    if (mark.nodes < this.nodeCount) {
      this.nodeIds.rebuild(mark.nodes, this.nodeParent, this.nodeFrame);
      this.nodesVersion++;
    }
    this.nodeCount = mark.nodes;
    for (let i = mark.series; i < this.series.length; i++) this.seriesIds.delete(seriesKey(this.series[i]!));
    this.series.length = mark.series;
    for (let i = mark.attributeSets; i < this.attributeSets.length; i++)
      this.attributeSetIds.delete(labelsKey(this.attributeSets[i]!));
    this.attributeSets.length = mark.attributeSets;
  }

  /** Function id per frame id (name + frame type), extended lazily to frames added since the last call. */
  functionIdsOfFrames(): Int32Array {
    const known = this.functionOfFrame.length;
    if (known >= this.frames.length) return this.functionOfFrame;
    const next = new Int32Array(this.frames.length);
    next.set(this.functionOfFrame.subarray(0, Math.min(known, next.length)));
    for (let f = known; f < this.frames.length; f++) {
      const frame = this.frames[f]!;
      let id = this.functionIds.get(frame.name);
      if (id === undefined) {
        id = this.functions.length;
        this.functions.push({ name: frame.name, frameType: frame.frameType });
        this.functionIds.set(frame.name, id);
      }
      next[f] = id;
    }
    this.functionOfFrame = next;
    return next;
  }

  private pushNode(parent: number, frame: number): void {
    if (this.nodeCount === this.nodeParent.length) {
      this.nodeParent = grownArray(this.nodeParent);
      this.nodeFrame = grownArray(this.nodeFrame);
    }
    this.nodeParent[this.nodeCount] = parent;
    this.nodeFrame[this.nodeCount] = frame;
    this.nodeCount++;
    this.nodesVersion++;
  }

  /** Rebuilds the mirror from the tables (on open). Ids are dense and ordered, as the writer assigns them. */
  static async load(connection: DuckDBConnection): Promise<StoreDictionary> {
    const d = new StoreDictionary();
    const frames = await connection.runAndReadAll(
      'SELECT name, frame_type, file, mapping FROM frames ORDER BY id',
    );
    for (const [name, frameType, file, mapping] of frames.getRowsJS())
      d.frameId({
        name: name as string,
        frameType: frameType as string,
        file: file as string,
        mapping: mapping as string,
      });
    const nodes = await connection.run('SELECT parent, frame FROM nodes ORDER BY id');
    for (
      let chunk = await nodes.fetchChunk();
      chunk && chunk.rowCount > 0;
      chunk = await nodes.fetchChunk()
    ) {
      const parents = chunk.getColumnVector(0);
      const frameCol = chunk.getColumnVector(1);
      for (let i = 0; i < chunk.rowCount; i++)
        d.childNode(parents.getItem(i) as number, frameCol.getItem(i) as number);
    }
    const series = await connection.runAndReadAll(
      `SELECT sample_type, sample_unit, period_type, period_unit, period, scope_name, scope_version, labels
       FROM series ORDER BY id`,
    );
    for (const row of series.getRowsJS()) {
      const [sampleType, sampleUnit, periodType, periodUnit, period, scopeName, scopeVersion, labels] = row;
      d.seriesId({
        sampleType: sampleType as string,
        sampleUnit: sampleUnit as string,
        periodType: periodType as string,
        periodUnit: periodUnit as string,
        period: BigInt(period as bigint),
        scopeName: scopeName as string,
        scopeVersion: scopeVersion as string,
        labels: JSON.parse(labels as string) as Labels,
      });
    }
    const sets = await connection.runAndReadAll('SELECT labels FROM attribute_sets ORDER BY id');
    for (const [labels] of sets.getRowsJS()) d.attributeSetId(JSON.parse(labels as string) as Labels);
    return d;
  }
}
