import type { DiffTreeJson, FlameTreeJson } from './api-types.js';

/**
 * The icicle layout of a flame tree, in typed arrays (a JS object per node costs ~1 s per million
 * nodes). Children are ordered by name, so a refreshed tree keeps its shape where the data did
 * not change; a subtree occupies a contiguous run of positions, so drawing skips a frame too narrow
 * to see together with everything below it in one step.
 */
export interface FlameModel {
  readonly tree: FlameTreeJson;
  readonly size: number;
  /** Width of each node, in value units (the diff uses the sum of both sides' shares). */
  readonly weight: Float64Array;
  /** Left edge of each node, in the same units; the root starts at 0. */
  readonly start: Float64Array;
  readonly depth: Int32Array;
  /** Pre-order position -> node. */
  readonly order: Int32Array;
  /** Node -> pre-order position. */
  readonly position: Int32Array;
  /** Position -> first position after its subtree. */
  readonly subtreeEnd: Int32Array;
  /** Children of node i: childList[childOffset[i] .. childOffset[i+1]), ordered by name. */
  readonly childOffset: Int32Array;
  readonly childList: Int32Array;
  readonly maxDepth: number;
}

export class MalformedTreeError extends Error {}

export function isDiffTree(tree: FlameTreeJson): tree is DiffTreeJson {
  return Array.isArray((tree as Partial<DiffTreeJson>).totalB);
}

export function nodeName(tree: FlameTreeJson, id: number): string {
  return tree.names[tree.name[id] ?? -1] ?? '?';
}

/** Widths of a diff: each side's share of its own total, summed, so frames of either side show. */
export function diffWeights(tree: DiffTreeJson): Float64Array {
  const rootA = tree.total[0] || 1;
  const rootB = tree.totalB[0] || 1;
  const weight = new Float64Array(tree.total.length);
  for (let i = 0; i < weight.length; i++)
    weight[i] = (tree.total[i] ?? 0) / rootA + (tree.totalB[i] ?? 0) / rootB;
  return weight;
}

function checkTree(tree: FlameTreeJson): void {
  const n = tree.parent.length;
  if (n === 0) throw new MalformedTreeError('flame tree has no root node');
  for (const [field, list] of [
    ['name', tree.name],
    ['total', tree.total],
    ['self', tree.self],
    ['frameType', tree.frameType],
  ] as const) {
    if (list.length !== n) {
      throw new MalformedTreeError(`flame tree field "${field}" has ${list.length} entries for ${n} nodes`);
    }
  }
  if (tree.parent[0] !== -1) throw new MalformedTreeError('flame tree node 0 is not the root (parent -1)');
  for (let i = 1; i < n; i++) {
    const p = tree.parent[i] as number;
    if (!(p >= 0 && p < i)) {
      throw new MalformedTreeError(`flame tree node ${i} has parent ${p}: not an earlier node (pre-order)`);
    }
  }
}

export function buildFlameModel(tree: FlameTreeJson, weights?: Float64Array): FlameModel {
  checkTree(tree);
  const size = tree.parent.length;
  const weight = weights ?? Float64Array.from(tree.total);
  const parent = tree.parent;

  const childOffset = new Int32Array(size + 1);
  for (let i = 1; i < size; i++) {
    const slot = (parent[i] as number) + 1;
    childOffset[slot] = (childOffset[slot] as number) + 1;
  }
  for (let i = 0; i < size; i++)
    childOffset[i + 1] = (childOffset[i + 1] as number) + (childOffset[i] as number);
  const fill = childOffset.slice(0, size);
  const childList = new Int32Array(Math.max(0, size - 1));
  for (let i = 1; i < size; i++) {
    const p = parent[i] as number;
    const at = fill[p] as number;
    childList[at] = i;
    fill[p] = at + 1;
  }
  const names = tree.names;
  const nameIndex = tree.name;
  const byName = (a: number, b: number): number => {
    const na = names[nameIndex[a] as number] ?? '';
    const nb = names[nameIndex[b] as number] ?? '';
    return na < nb ? -1 : na > nb ? 1 : a - b;
  };
  for (let i = 0; i < size; i++) {
    const from = childOffset[i] as number;
    const to = childOffset[i + 1] as number;
    if (to - from > 1) childList.subarray(from, to).sort(byName);
  }

  const subtreeSize = new Int32Array(size).fill(1);
  for (let i = size - 1; i > 0; i--) {
    const p = parent[i] as number;
    subtreeSize[p] = (subtreeSize[p] as number) + (subtreeSize[i] as number);
  }

  const order = new Int32Array(size);
  const position = new Int32Array(size);
  const subtreeEnd = new Int32Array(size);
  const start = new Float64Array(size);
  const depth = new Int32Array(size);
  const stack = new Int32Array(size);
  let top = 0;
  let next = 0;
  let maxDepth = 0;
  stack[top++] = 0;
  while (top > 0) {
    const id = stack[--top] as number;
    order[next] = id;
    position[id] = next;
    subtreeEnd[next] = next + (subtreeSize[id] as number);
    next++;
    const d = depth[id] as number;
    if (d > maxDepth) maxDepth = d;
    const from = childOffset[id] as number;
    const to = childOffset[id + 1] as number;
    let x = start[id] as number;
    for (let k = from; k < to; k++) {
      const child = childList[k] as number;
      start[child] = x;
      depth[child] = d + 1;
      x += weight[child] as number;
    }
    // Pushed in reverse so the first child (by name) is visited first.
    for (let k = to - 1; k >= from; k--) stack[top++] = childList[k] as number;
  }
  return {
    tree,
    size,
    weight,
    start,
    depth,
    order,
    position,
    subtreeEnd,
    childOffset,
    childList,
    maxDepth,
  };
}

/** Names from the root's child down to `id` (the root itself has the empty path). */
export function pathOf(model: FlameModel, id: number): string[] {
  const path: string[] = [];
  for (let n = id; n > 0; n = model.tree.parent[n] as number) path.push(nodeName(model.tree, n));
  return path.reverse();
}

/**
 * The node a path leads to in this tree: at each step the heaviest child of that name. When the
 * path no longer exists (the frame left the selection), the deepest node that does.
 */
export function findByPath(model: FlameModel, path: readonly string[]): { id: number; matched: number } {
  let id = 0;
  let matched = 0;
  for (const name of path) {
    let best = -1;
    for (let k = model.childOffset[id] as number; k < (model.childOffset[id + 1] as number); k++) {
      const child = model.childList[k] as number;
      if (nodeName(model.tree, child) !== name) continue;
      if (best < 0 || (model.weight[child] as number) > (model.weight[best] as number)) best = child;
    }
    if (best < 0) break;
    id = best;
    matched++;
  }
  return { id, matched };
}

/** The node at `depth` whose span holds `value` (value units), below `focus` or on its ancestor line. */
export function nodeAt(model: FlameModel, focus: number, depth: number, value: number): number {
  const focusDepth = model.depth[focus] as number;
  if (depth < 0 || depth > model.maxDepth) return -1;
  if (depth <= focusDepth) {
    let n = focus;
    while ((model.depth[n] as number) > depth) n = model.tree.parent[n] as number;
    return n;
  }
  let n = focus;
  while ((model.depth[n] as number) < depth) {
    let found = -1;
    for (let k = model.childOffset[n] as number; k < (model.childOffset[n + 1] as number); k++) {
      const child = model.childList[k] as number;
      const s = model.start[child] as number;
      if (value >= s && value < s + (model.weight[child] as number)) {
        found = child;
        break;
      }
    }
    if (found < 0) return -1;
    n = found;
  }
  return n;
}
