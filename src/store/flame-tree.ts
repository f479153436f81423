import type { FlameTree } from './profile-store.js';
import type { ShapeOrder } from './shape-order.js';
import { byName } from './shape-order.js';

/**
 * The per-query flame graph over a parent-pointer tree (child id > parent id): values land on the nodes
 * that end a stack (self), one downward pass over the ids adds every node into its parent (total), the
 * largest `maxNodes` nodes are kept (a parent's total is never below its child's, so what is kept is a
 * connected tree), and the result is written in pre-order with children sorted by name. Typed arrays
 * throughout: a JS object per node costs 20× more on a million-node tree.
 */

/** Default node budget of a returned tree: what a canvas renderer still draws smoothly. */
export const DEFAULT_MAX_NODES = 100_000;

export interface TreeShape {
  readonly parent: Int32Array;
  readonly frame: Int32Array;
  readonly count: number;
  /** Name and frame type of frame ids (node frames); the root's frame is -1. */
  frameName(frame: number): string;
  frameType(frame: number): string;
  readonly rootName: string;
  readonly rootFrameType: string;
  /** The stored order of exactly these nodes, when the shape's owner keeps one (see shape-order.ts). */
  readonly order?: ShapeOrder;
}

/** Values of one selection over a tree shape. */
export interface TreeValues {
  readonly self: Float64Array;
  readonly total: Float64Array;
  /** 1 for every node carrying a value or an ancestor of one. */
  readonly touched: Uint8Array;
  readonly rootExact: bigint;
}

/** Adds `(node, value)` pairs into self, then totals downwards through the ids. */
export function treeValues(
  shape: TreeShape,
  nodes: ArrayLike<number>,
  values: readonly bigint[],
): TreeValues {
  const self = new Float64Array(shape.count);
  const touched = new Uint8Array(shape.count);
  let rootExact = 0n;
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    self[node]! += Number(values[i]!);
    touched[node] = 1;
    rootExact += values[i]!;
  }
  const totals = accumulate(shape, self, touched);
  return treeValuesOf(self, totals.total, totals.touched, rootExact);
}

/**
 * Values as one object literal: a map reached by spreading into a literal is only held by the transition
 * tree, dies with the last such object at a garbage collection and takes the optimised code of every tree
 * pass that saw it along (the next query then runs those loops unoptimised).
 */
export function treeValuesOf(
  self: Float64Array,
  total: Float64Array,
  touched: Uint8Array,
  rootExact: bigint,
): TreeValues {
  return { self, total, touched, rootExact };
}

/** Totals from self values: one pass from the highest id down, adding each touched node into its parent. */
export function accumulate(
  shape: TreeShape,
  self: Float64Array,
  touched: Uint8Array,
): Pick<TreeValues, 'total' | 'touched'> {
  const total = self.slice(0, shape.count);
  const parent = shape.parent;
  for (let i = shape.count - 1; i > 0; i--) {
    if (touched[i] === 0) continue;
    const p = parent[i]!;
    total[p]! += total[i]!;
    touched[p] = 1;
  }
  touched[0] = 1;
  return { total, touched };
}

/** The k-th largest of `values` (k ≥ 1), by quickselect on a copy. */
function kthLargest(values: Float64Array, k: number): number {
  const a = values;
  let lo = 0;
  let hi = a.length - 1;
  const target = k - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >>> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (target <= j) hi = j;
    else if (target >= i) lo = i;
    else return a[target]!;
  }
  return a[target]!;
}

/**
 * The ids (ascending, the root first) of the touched nodes to keep so at most `maxNodes` remain: those with
 * the largest `measure`; ties at the threshold all go rather than split arbitrarily.
 */
function keptNodes(
  touched: Uint8Array,
  measure: Float64Array,
  count: number,
  maxNodes: number,
): { kept: Int32Array; touchedCount: number } {
  let touchedCount = 0;
  for (let i = 0; i < count; i++) touchedCount += touched[i]!;
  let threshold = -Infinity;
  let inclusive = true;
  if (touchedCount > maxNodes) {
    const candidates = new Float64Array(touchedCount);
    let n = 0;
    for (let i = 0; i < count; i++) if (touched[i] === 1) candidates[n++] = measure[i]!;
    threshold = kthLargest(candidates, Math.max(1, maxNodes));
    let atLeast = 0;
    for (let i = 0; i < touchedCount; i++) if (candidates[i]! >= threshold) atLeast++;
    inclusive = atLeast <= maxNodes;
  }
  const kept = new Int32Array(Math.min(touchedCount, Math.max(1, maxNodes)) + 1);
  let k = 0;
  kept[k++] = 0;
  for (let i = 1; i < count; i++)
    if (touched[i] === 1 && (inclusive ? measure[i]! >= threshold : measure[i]! > threshold)) kept[k++] = i;
  return { kept: kept.subarray(0, k), touchedCount };
}

export interface FinishedTree extends FlameTree {
  /** Output node → tree node id, for second value arrays (diff). */
  readonly sourceNode: Int32Array;
}

/*
 * The passes below are separate small functions over typed arrays on purpose: as one large function V8
 * kept deoptimising it (a new map or too little type feedback at a different place on each call) and ran
 * its loops interpreted, which cost 4× the whole query at 100k nodes (measured on the store-query benchmark).
 */

/** The distinct frames of the kept nodes ranked by name; per kept node (index ≥ 1) its frame's rank. */
interface FrameRanks {
  /** Per kept node: its frame's rank (0 for the root, unused). */
  readonly rank: Int32Array;
  /** Names by rank. */
  readonly names: readonly string[];
  /** Frame types by rank. */
  readonly types: readonly string[];
}

/**
 * Ranks the distinct frames of the kept nodes (few, next to the nodes) by name, ties in order of first
 * appearance, so children lists come out sorted by name without comparing strings per node.
 */
function frameRanks(shape: TreeShape, kept: Int32Array): FrameRanks {
  const k = kept.length;
  const frameOf = shape.frame;
  let maxFrame = 0;
  for (let j = 1; j < k; j++) if (frameOf[kept[j]!]! > maxFrame) maxFrame = frameOf[kept[j]!]!;
  const localOfFrame = new Int32Array(maxFrame + 1).fill(-1);
  const localOfNode = new Int32Array(k);
  const frames: number[] = [];
  for (let j = 1; j < k; j++) {
    const f = frameOf[kept[j]!]!;
    if (localOfFrame[f]! < 0) {
      localOfFrame[f] = frames.length;
      frames.push(f);
    }
    localOfNode[j] = localOfFrame[f]!;
  }
  const frameNames = frames.map((f) => shape.frameName(f));
  const ranked = byName(frameNames);
  const rankOfLocal = new Int32Array(frames.length);
  ranked.forEach((local, r) => (rankOfLocal[local] = r));
  const rank = new Int32Array(k);
  for (let j = 1; j < k; j++) rank[j] = rankOfLocal[localOfNode[j]!]!;
  return {
    rank,
    names: ranked.map((local) => frameNames[local]!),
    types: ranked.map((local) => shape.frameType(frames[local]!)),
  };
}

/** The kept nodes as children lists (CSR over local indexes, each list in rank order). */
interface ChildLists {
  /** Per kept node: its parent's local index; -1 for the root and for a node whose parent was not kept. */
  readonly parentLocal: Int32Array;
  /** Children of local node j: children[childStart[j] .. childStart[j + 1]). */
  readonly childStart: Int32Array;
  readonly children: Int32Array;
}

/**
 * A kept node's parent is kept too, except when values are negative, so a missing parent drops the node.
 * A counting sort by rank (stable: by id within a rank) orders every list by name.
 */
function childLists(parentOf: Int32Array, count: number, kept: Int32Array, ranks: FrameRanks): ChildLists {
  const k = kept.length;
  const rank = ranks.rank;
  const localOf = new Int32Array(count).fill(-1);
  for (let j = 0; j < k; j++) localOf[kept[j]!] = j;
  const rankCount = ranks.names.length;
  const perRank = new Int32Array(rankCount + 1);
  for (let j = 1; j < k; j++) perRank[rank[j]! + 1]!++;
  for (let r = 0; r < rankCount; r++) perRank[r + 1]! += perRank[r]!;
  const inRankOrder = new Int32Array(Math.max(0, k - 1));
  for (let j = 1; j < k; j++) inRankOrder[perRank[rank[j]!]!++] = j;
  const parentLocal = new Int32Array(k);
  parentLocal[0] = -1;
  const childStart = new Int32Array(k + 1);
  for (let j = 1; j < k; j++) {
    const p = localOf[parentOf[kept[j]!]!]!;
    parentLocal[j] = p;
    if (p >= 0) childStart[p + 1]!++;
  }
  for (let j = 0; j < k; j++) childStart[j + 1]! += childStart[j]!;
  const children = new Int32Array(childStart[k]!);
  const fill = childStart.slice(0, k);
  for (let i = 0; i < inRankOrder.length; i++) {
    const j = inRankOrder[i]!;
    const p = parentLocal[j]!;
    if (p >= 0) children[fill[p]!++] = j;
  }
  return { parentLocal, childStart, children };
}

/** Output order: per output position the kept node's local index, and the output count. */
function preOrder(lists: ChildLists): { order: Int32Array; out: number } {
  const { childStart, children } = lists;
  const k = childStart.length - 1;
  const order = new Int32Array(k);
  const stack = new Int32Array(k + 1);
  let depth = 0;
  stack[depth++] = 0;
  let out = 0;
  while (depth > 0) {
    const j = stack[--depth]!;
    order[out++] = j;
    for (let c = childStart[j + 1]! - 1; c >= childStart[j]!; c--) stack[depth++] = children[c]!;
  }
  return { order, out };
}

/** Writes the kept nodes in pre-order of their children lists. Returns the number of nodes written. */
function writeInKeptOrder(
  shape: TreeShape,
  kept: Int32Array,
  ranks: FrameRanks,
  lists: ChildLists,
  values: TreeValues,
  output: TreeOutput,
): number {
  const { order, out } = preOrder(lists);
  const outIndex = new Int32Array(kept.length);
  for (let i = 0; i < out; i++) outIndex[order[i]!] = i;
  const { name, parent, frameType, total, self, source } = output;
  const nodeTotal = values.total;
  const nodeSelf = values.self;
  for (let i = 0; i < out; i++) {
    const j = order[i]!;
    const node = kept[j]!;
    source[i] = node;
    total[i] = nodeTotal[node]!;
    self[i] = nodeSelf[node]!;
    if (j === 0) {
      name[i] = 0;
      parent[i] = -1;
      frameType[i] = shape.rootFrameType;
    } else {
      name[i] = ranks.rank[j]! + 1;
      parent[i] = outIndex[lists.parentLocal[j]!]!;
      frameType[i] = ranks.types[ranks.rank[j]!]!;
    }
  }
  return out;
}

/**
 * Per frame id, its rank among the frames of the kept nodes, in the stored order (-1: no kept node has
 * it); undefined when that order does not hold for these nodes: equal names rank by their first kept node,
 * the stored order by their first node in the whole tree, and dropping nodes can swap the two.
 */
function storedFrameRanks(frameOf: Int32Array, kept: Int32Array, order: ShapeOrder): Int32Array | undefined {
  let maxFrame = -1;
  for (let p = 0; p < order.frames.length; p++) if (order.frames[p]! > maxFrame) maxFrame = order.frames[p]!;
  const firstKept = new Int32Array(maxFrame + 1).fill(-1);
  for (let j = 1; j < kept.length; j++) {
    const f = frameOf[kept[j]!]!;
    if (firstKept[f]! < 0) firstKept[f] = kept[j]!;
  }
  const rankOf = new Int32Array(maxFrame + 1).fill(-1);
  let rank = 0;
  let lastFirstOfName = -1;
  for (let p = 0; p < order.frames.length; p++) {
    const f = order.frames[p]!;
    if (order.sameNameAsPrevious[p] === 0) lastFirstOfName = -1;
    if (firstKept[f]! < 0) continue;
    if (firstKept[f]! < lastFirstOfName) return undefined;
    lastFirstOfName = firstKept[f]!;
    rankOf[f] = rank++;
  }
  return rankOf;
}

/** Output arrays of `capacity` nodes, filled by one of the two ways to write a tree. */
interface TreeOutput {
  readonly name: Int32Array;
  readonly parent: Int32Array;
  readonly frameType: string[];
  readonly total: number[];
  readonly self: number[];
  readonly source: Int32Array;
}

function treeOutput(capacity: number): TreeOutput {
  // Plain arrays filled with their kind of element first: a fresh array turning from small integers to
  // doubles (or strings) inside the writing loop deoptimises that loop on every call.
  return {
    name: new Int32Array(capacity),
    parent: new Int32Array(capacity),
    frameType: new Array<string>(capacity).fill(''),
    total: new Array<number>(capacity).fill(0.5),
    self: new Array<number>(capacity).fill(0.5),
    source: new Int32Array(capacity),
  };
}

/**
 * Writes the kept nodes by walking the stored pre-order, skipping the subtree of every node not kept (a
 * kept node under a dropped parent goes with it). Returns the number of nodes written.
 */
function writeInStoredOrder(
  shape: TreeShape,
  order: ShapeOrder,
  kept: Int32Array,
  rankOf: Int32Array,
  types: readonly string[],
  values: TreeValues,
  output: TreeOutput,
): number {
  const isKept = new Uint8Array(shape.count);
  for (let j = 0; j < kept.length; j++) isKept[kept[j]!] = 1;
  const outOf = new Int32Array(shape.count);
  const { nodes, subtreeEnd } = order;
  const { name, parent, frameType, total, self, source } = output;
  const nodeTotal = values.total;
  const nodeSelf = values.self;
  const parentOf = shape.parent;
  const frameOf = shape.frame;
  let out = 0;
  for (let pos = 0; pos < nodes.length;) {
    const node = nodes[pos]!;
    if (isKept[node] === 0) {
      pos = subtreeEnd[pos]!;
      continue;
    }
    outOf[node] = out;
    source[out] = node;
    total[out] = nodeTotal[node]!;
    self[out] = nodeSelf[node]!;
    if (node === 0) {
      name[out] = 0;
      parent[out] = -1;
      frameType[out] = shape.rootFrameType;
    } else {
      const rank = rankOf[frameOf[node]!]!;
      name[out] = rank + 1;
      parent[out] = outOf[parentOf[node]!]!;
      frameType[out] = types[rank]!;
    }
    out++;
    pos++;
  }
  return out;
}

/** The tree from the stored order, or undefined when that order does not apply (see storedFrameRanks). */
function finishInStoredOrder(
  shape: TreeShape,
  order: ShapeOrder,
  values: TreeValues,
  kept: Int32Array,
  touchedCount: number,
): FinishedTree | undefined {
  const rankOf = storedFrameRanks(shape.frame, kept, order);
  if (rankOf === undefined) return undefined;
  const names = [shape.rootName];
  const types: string[] = [];
  for (let p = 0; p < order.frames.length; p++) {
    const f = order.frames[p]!;
    if (rankOf[f]! < 0) continue;
    names.push(shape.frameName(f));
    types.push(shape.frameType(f));
  }
  const output = treeOutput(kept.length);
  const out = writeInStoredOrder(shape, order, kept, rankOf, types, values, output);
  return treeOf(names, output, out, values, touchedCount);
}

/** The finished tree from filled output arrays (the first `out` nodes of them). */
function treeOf(
  names: string[],
  output: TreeOutput,
  out: number,
  values: TreeValues,
  touchedCount: number,
): FinishedTree {
  const whole = out === output.name.length;
  return {
    names,
    name: whole ? output.name : output.name.slice(0, out),
    parent: whole ? output.parent : output.parent.slice(0, out),
    frameType: whole ? output.frameType : output.frameType.slice(0, out),
    total: whole ? output.total : output.total.slice(0, out),
    self: whole ? output.self : output.self.slice(0, out),
    rootTotal: values.rootExact.toString(),
    truncated: touchedCount - out,
    sourceNode: output.source.subarray(0, out),
  };
}

/**
 * Writes the kept part of a tree in pre-order. `measure` ranks nodes for truncation (by default the total).
 * After the selection of the kept nodes every pass runs over those only, not over the whole tree.
 */
export function finishTree(
  shape: TreeShape,
  values: TreeValues,
  maxNodes: number = DEFAULT_MAX_NODES,
  measure: Float64Array = values.total,
): FinishedTree {
  const { kept, touchedCount } = keptNodes(values.touched, measure, shape.count, maxNodes);
  const order = shape.order;
  if (order !== undefined && order.count === shape.count) {
    const tree = finishInStoredOrder(shape, order, values, kept, touchedCount);
    if (tree !== undefined) return tree;
  }
  const ranks = frameRanks(shape, kept);
  const lists = childLists(shape.parent, shape.count, kept, ranks);
  const output = treeOutput(kept.length);
  const out = writeInKeptOrder(shape, kept, ranks, lists, values, output);
  return treeOf([shape.rootName, ...ranks.names], output, out, values, touchedCount);
}

/** A tree built from paths (sandwich views): the same parent-pointer shape as the store's prefix tree. */
export class PathTree {
  parent: number[] = [-1];
  frame: number[] = [-1];
  private readonly ids = new Map<string, number>();
  self: number[] = [0];
  rootExact = 0n;

  /** Adds `value` at the end of `frames` (root-first, the root itself excluded). */
  add(frames: readonly number[], value: bigint): void {
    let node = 0;
    for (const f of frames) {
      const key = `${node}:${f}`;
      let id = this.ids.get(key);
      if (id === undefined) {
        id = this.parent.length;
        this.parent.push(node);
        this.frame.push(f);
        this.self.push(0);
        this.ids.set(key, id);
      }
      node = id;
    }
    this.self[node]! += Number(value);
    this.rootExact += value;
  }

  finish(
    frameName: (frame: number) => string,
    frameType: (frame: number) => string,
    rootName: string,
    rootFrameType: string,
    maxNodes: number,
  ): FlameTree {
    const shape: TreeShape = {
      parent: Int32Array.from(this.parent),
      frame: Int32Array.from(this.frame),
      count: this.parent.length,
      frameName,
      frameType,
      rootName,
      rootFrameType,
    };
    const self = Float64Array.from(this.self);
    const touched = new Uint8Array(shape.count).fill(1);
    const { sourceNode: _unused, ...tree } = finishTree(
      shape,
      treeValuesOf(self, accumulate(shape, self, touched).total, touched, this.rootExact),
      maxNodes,
    );
    return tree;
  }
}
