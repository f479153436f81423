import type { FlameTree } from './profile-store.js';

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
  return { self, ...accumulate(shape, self, touched), rootExact };
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
  const k = kept.length;
  // Local index of each kept node (its position in `kept`); a kept node's parent is kept too, except
  // when values are negative, so a missing parent drops the node.
  const localOf = new Int32Array(shape.count).fill(-1);
  for (let j = 0; j < k; j++) localOf[kept[j]!] = j;

  // Rank the distinct frames of the kept nodes by name (few, next to the nodes), then order the kept nodes
  // by rank with a counting sort and lay them out as children lists (CSR): every list comes out sorted by
  // name without comparing strings per node, and a node's name index is its frame's rank + 1.
  let maxFrame = 0;
  for (let j = 1; j < k; j++) if (shape.frame[kept[j]!]! > maxFrame) maxFrame = shape.frame[kept[j]!]!;
  const localOfFrame = new Int32Array(maxFrame + 1).fill(-1);
  const frames: number[] = [];
  for (let j = 1; j < k; j++) {
    const f = shape.frame[kept[j]!]!;
    if (localOfFrame[f]! < 0) {
      localOfFrame[f] = frames.length;
      frames.push(f);
    }
  }
  const frameNames = frames.map((f) => shape.frameName(f));
  const byName = frames
    .map((_, i) => i)
    .sort((a, b) => (frameNames[a]! < frameNames[b]! ? -1 : frameNames[a]! > frameNames[b]! ? 1 : 0));
  const rankOfLocal = new Int32Array(frames.length);
  byName.forEach((local, r) => (rankOfLocal[local] = r));
  const names = [shape.rootName, ...byName.map((local) => frameNames[local]!)];
  const typeOfRank = byName.map((local) => shape.frameType(frames[local]!));
  const rank = new Int32Array(k);
  const perRank = new Int32Array(frames.length + 1);
  for (let j = 1; j < k; j++) {
    const r = rankOfLocal[localOfFrame[shape.frame[kept[j]!]!]!]!;
    rank[j] = r;
    perRank[r + 1]!++;
  }
  for (let r = 0; r < frames.length; r++) perRank[r + 1]! += perRank[r]!;
  const inRankOrder = new Int32Array(Math.max(0, k - 1));
  for (let j = 1; j < k; j++) inRankOrder[perRank[rank[j]!]!++] = j;
  const parentLocal = new Int32Array(k);
  parentLocal[0] = -1;
  const childStart = new Int32Array(k + 1);
  for (let j = 1; j < k; j++) {
    const p = localOf[shape.parent[kept[j]!]!]!;
    parentLocal[j] = p;
    if (p >= 0) childStart[p + 1]!++;
  }
  for (let j = 0; j < k; j++) childStart[j + 1]! += childStart[j]!;
  const children = new Int32Array(childStart[k]!);
  const fill = childStart.slice(0, k);
  for (const j of inRankOrder) if (parentLocal[j]! >= 0) children[fill[parentLocal[j]!]!++] = j;

  const name = new Int32Array(k);
  const parent = new Int32Array(k);
  const frameType = new Array<string>(k);
  const total = new Array<number>(k);
  const self = new Array<number>(k);
  const source = new Int32Array(k);
  const outIndex = new Int32Array(k);
  const stack = new Int32Array(k + 1);
  let depth = 0;
  stack[depth++] = 0;
  let out = 0;
  while (depth > 0) {
    const j = stack[--depth]!;
    const node = kept[j]!;
    outIndex[j] = out;
    source[out] = node;
    if (j === 0) {
      name[out] = 0;
      parent[out] = -1;
      frameType[out] = shape.rootFrameType;
    } else {
      name[out] = rank[j]! + 1;
      parent[out] = outIndex[parentLocal[j]!]!;
      frameType[out] = typeOfRank[rank[j]!]!;
    }
    total[out] = values.total[node]!;
    self[out] = values.self[node]!;
    out++;
    for (let c = childStart[j + 1]! - 1; c >= childStart[j]!; c--) stack[depth++] = children[c]!;
  }
  return {
    names,
    name: out === k ? name : name.slice(0, out),
    parent: out === k ? parent : parent.slice(0, out),
    frameType: out === k ? frameType : frameType.slice(0, out),
    total: out === k ? total : total.slice(0, out),
    self: out === k ? self : self.slice(0, out),
    rootTotal: values.rootExact.toString(),
    truncated: touchedCount - out,
    sourceNode: source.subarray(0, out),
  };
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
      { self, ...accumulate(shape, self, touched), rootExact: this.rootExact },
      maxNodes,
    );
    return tree;
  }
}
