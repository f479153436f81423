/**
 * A prefix tree's whole shape in the order a flame graph is written: pre-order, children by frame name.
 * It depends on the tree alone, not on a selection's values, so the store builds it once per version of its
 * dictionary and every flame-graph query walks it (skipping the subtrees it does not keep) instead of
 * ranking, linking and ordering its 100k kept nodes again (measured on the store-query benchmark: about half
 * the tree's work per query at the page's 100k-node budget).
 */

export interface ShapeOrder {
  /** Nodes of the tree this order was built for. */
  readonly count: number;
  /** Node ids in pre-order, children by their frame's position in `frames`. */
  readonly nodes: Int32Array;
  /** Per position in `nodes`: the position just after that node's subtree. */
  readonly subtreeEnd: Int32Array;
  /** The frames nodes carry, by name, equal names by their first node id. */
  readonly frames: Int32Array;
  /** Per position in `frames`: 1 when its name equals the name before it. */
  readonly sameNameAsPrevious: Uint8Array;
}

/**
 * Positions of `names` sorted by name (UTF-16 order); equal names keep their order in `names`. Every flame
 * tree ranks its frames with this, so the stored order and a per-query ranking agree.
 */
export function byName(names: readonly string[]): number[] {
  return names.map((_, i) => i).sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
}

/** Builds the order of the tree given by parent and frame per node id (child id > parent id; node 0 the root). */
export function shapeOrder(
  parent: Int32Array,
  frame: Int32Array,
  count: number,
  frameName: (frame: number) => string,
): ShapeOrder {
  let maxFrame = -1;
  for (let i = 1; i < count; i++) if (frame[i]! > maxFrame) maxFrame = frame[i]!;
  // Frames in order of their first node, then ranked by name: ties stay in first-node order.
  const seen = new Uint8Array(maxFrame + 1);
  const used: number[] = [];
  for (let i = 1; i < count; i++)
    if (seen[frame[i]!] === 0) {
      seen[frame[i]!] = 1;
      used.push(frame[i]!);
    }
  const usedNames = used.map(frameName);
  const ranked = byName(usedNames);
  const frames = Int32Array.from(ranked, (i) => used[i]!);
  const sameNameAsPrevious = Uint8Array.from(ranked, (i, r) =>
    r > 0 && usedNames[i] === usedNames[ranked[r - 1]!] ? 1 : 0,
  );
  const rankOfFrame = new Int32Array(maxFrame + 1);
  for (let r = 0; r < frames.length; r++) rankOfFrame[frames[r]!] = r;
  const { nodes, subtreeEnd } = preOrder(parent, frame, count, rankOfFrame, frames.length);
  return { count, nodes, subtreeEnd, frames, sameNameAsPrevious };
}

/** Children lists ordered by rank (a counting sort), then a depth-first walk; subtree sizes from the ids. */
function preOrder(
  parent: Int32Array,
  frame: Int32Array,
  count: number,
  rankOfFrame: Int32Array,
  ranks: number,
): { nodes: Int32Array; subtreeEnd: Int32Array } {
  const perRank = new Int32Array(ranks + 1);
  for (let i = 1; i < count; i++) perRank[rankOfFrame[frame[i]!]! + 1]!++;
  for (let r = 0; r < ranks; r++) perRank[r + 1]! += perRank[r]!;
  const inRankOrder = new Int32Array(Math.max(0, count - 1));
  for (let i = 1; i < count; i++) inRankOrder[perRank[rankOfFrame[frame[i]!]!]!++] = i;
  const childStart = new Int32Array(count + 1);
  for (let i = 1; i < count; i++) childStart[parent[i]! + 1]!++;
  for (let i = 0; i < count; i++) childStart[i + 1]! += childStart[i]!;
  const children = new Int32Array(Math.max(0, count - 1));
  const fill = childStart.slice(0, count);
  for (let c = 0; c < inRankOrder.length; c++) {
    const i = inRankOrder[c]!;
    children[fill[parent[i]!]!++] = i;
  }
  const size = new Int32Array(count).fill(1);
  for (let i = count - 1; i > 0; i--) size[parent[i]!]! += size[i]!;
  const nodes = new Int32Array(count);
  const subtreeEnd = new Int32Array(count);
  const stack = new Int32Array(count + 1);
  let depth = 0;
  stack[depth++] = 0;
  let out = 0;
  while (depth > 0) {
    const node = stack[--depth]!;
    nodes[out] = node;
    subtreeEnd[out] = out + size[node]!;
    out++;
    for (let c = childStart[node + 1]! - 1; c >= childStart[node]!; c--) stack[depth++] = children[c]!;
  }
  return { nodes, subtreeEnd };
}
