import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TreeShape, TreeValues } from '../../src/store/flame-tree.js';
import { finishTree, treeValues } from '../../src/store/flame-tree.js';
import { shapeOrder } from '../../src/store/shape-order.js';
import type { SeededRandom } from '../support/seeded-random.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * finishTree against a plain reference written from its contract (objects, recursion, sorts), on random
 * prefix trees: same node set after truncation (largest measures, ties at the threshold all kept or all
 * dropped, a node whose parent is dropped goes too), same names table, same pre-order with children by name
 * (equal names of different frames in order of the frame's first kept node), same values and counts;
 * both with the shape's stored order (shape-order.ts) and without it.
 */

const NAME_POOL = ['main', 'run', 'a', 'b', 'B', 'c', 'ä', 'zz', 'z', '[unknown]', 'read', 'write'];

interface RandomTree {
  readonly shape: TreeShape;
  readonly leaves: number[];
  readonly values: bigint[];
}

function randomTree(rnd: SeededRandom, negative: boolean): RandomTree {
  const frames = 1 + rnd.int(40);
  // Several frames share a name (as the same function name under other types or mappings does).
  const frameNames = Array.from({ length: frames }, () => NAME_POOL[rnd.int(NAME_POOL.length)]!);
  const frameTypes = Array.from({ length: frames }, (_, f) => ['native', 'kernel', 'cpython'][f % 3]!);
  const size = 1 + rnd.int(rnd.int(4) === 0 ? 40 : 3000);
  const parent = [-1];
  const frame = [-1];
  const children = new Set<string>();
  for (let tries = 0; parent.length < size && tries < size * 4; tries++) {
    // Mostly near the newest nodes: deep chains as well as wide fan-outs.
    const p = rnd.int(2) === 0 ? Math.max(0, parent.length - 1 - rnd.int(8)) : rnd.int(parent.length);
    const f = rnd.int(frames);
    if (children.has(`${p}:${f}`)) continue;
    children.add(`${p}:${f}`);
    parent.push(p);
    frame.push(f);
  }
  const count = parent.length;
  const leaves: number[] = [];
  const values: bigint[] = [];
  const pairs = 1 + rnd.int(Math.max(1, count));
  const spread = [3, 100, 1_000_000][rnd.int(3)]!; // small spreads make ties frequent
  for (let i = 0; i < pairs; i++) {
    leaves.push(rnd.int(count));
    const v = BigInt(rnd.int(spread));
    values.push(negative && rnd.int(3) === 0 ? -v : v);
  }
  return {
    shape: {
      parent: Int32Array.from(parent),
      frame: Int32Array.from(frame),
      count,
      frameName: (f) => frameNames[f]!,
      frameType: (f) => frameTypes[f]!,
      rootName: 'total',
      rootFrameType: '',
    },
    leaves,
    values,
  };
}

interface ReferenceTree {
  names: string[];
  name: number[];
  parent: number[];
  frameType: string[];
  total: number[];
  self: number[];
  rootTotal: string;
  truncated: number;
  sourceNode: number[];
}

function referenceTotals(shape: TreeShape, leaves: number[], values: bigint[]): number[] {
  const self = new Array<number>(shape.count).fill(0);
  leaves.forEach((leaf, i) => (self[leaf]! += Number(values[i]!)));
  const total = [...self];
  for (let i = shape.count - 1; i > 0; i--) total[shape.parent[i]!]! += total[i]!;
  return total;
}

function referenceTree(
  shape: TreeShape,
  values: TreeValues,
  maxNodes: number,
  measure: Float64Array,
): ReferenceTree {
  const touched = [...Array(shape.count).keys()].filter((i) => values.touched[i] === 1);
  let keeps = (_m: number): boolean => true;
  if (touched.length > maxNodes) {
    const sorted = touched.map((i) => measure[i]!).sort((a, b) => b - a);
    const threshold = sorted[Math.max(1, maxNodes) - 1]!;
    const atLeast = sorted.filter((m) => m >= threshold).length;
    keeps = atLeast <= maxNodes ? (m) => m >= threshold : (m) => m > threshold;
  }
  const kept = touched.filter((i) => i > 0 && keeps(measure[i]!));
  const keptSet = new Set([0, ...kept]);
  const firstSeen = new Map<number, number>();
  for (const i of kept) if (!firstSeen.has(shape.frame[i]!)) firstSeen.set(shape.frame[i]!, firstSeen.size);
  const byName = [...firstSeen.keys()].sort((a, b) => {
    const na = shape.frameName(a);
    const nb = shape.frameName(b);
    return na < nb ? -1 : na > nb ? 1 : firstSeen.get(a)! - firstSeen.get(b)!;
  });
  const rankOf = new Map(byName.map((f, r) => [f, r]));
  const childrenOf = new Map<number, number[]>();
  for (const i of kept) {
    const p = shape.parent[i]!;
    if (!keptSet.has(p)) continue;
    if (!childrenOf.has(p)) childrenOf.set(p, []);
    childrenOf.get(p)!.push(i);
  }
  const tree: ReferenceTree = {
    names: [shape.rootName, ...byName.map((f) => shape.frameName(f))],
    name: [],
    parent: [],
    frameType: [],
    total: [],
    self: [],
    rootTotal: values.rootExact.toString(),
    truncated: 0,
    sourceNode: [],
  };
  const visit = (node: number, parentOut: number): void => {
    const out = tree.name.length;
    tree.name.push(node === 0 ? 0 : rankOf.get(shape.frame[node]!)! + 1);
    tree.parent.push(parentOut);
    tree.frameType.push(node === 0 ? shape.rootFrameType : shape.frameType(shape.frame[node]!));
    tree.total.push(values.total[node]!);
    tree.self.push(values.self[node]!);
    tree.sourceNode.push(node);
    const children = (childrenOf.get(node) ?? []).sort(
      (a, b) => rankOf.get(shape.frame[a]!)! - rankOf.get(shape.frame[b]!)!,
    );
    for (const c of children) visit(c, out);
  };
  visit(0, -1);
  tree.truncated = touched.length - tree.name.length;
  return tree;
}

/** The same shape carrying its stored order, as the store's shapes do. */
function withOrder(shape: TreeShape): TreeShape {
  return { ...shape, order: shapeOrder(shape.parent, shape.frame, shape.count, shape.frameName) };
}

function asPlain(tree: ReturnType<typeof finishTree>): ReferenceTree {
  return {
    names: [...tree.names],
    name: Array.from(tree.name),
    parent: Array.from(tree.parent),
    frameType: [...tree.frameType],
    total: [...tree.total],
    self: [...tree.self],
    rootTotal: tree.rootTotal,
    truncated: tree.truncated,
    sourceNode: Array.from(tree.sourceNode),
  };
}

describe('flame tree against a reference (random trees)', () => {
  it('gives the reference tree for every budget, with and without negative values', () => {
    const rnd = seededRandom(1409);
    for (let trial = 0; trial < 300; trial++) {
      const { shape, leaves, values } = randomTree(rnd, trial % 3 === 2);
      const tv = treeValues(shape, leaves, values);
      assert.deepEqual(
        Array.from(tv.total),
        referenceTotals(shape, leaves, values),
        `trial ${trial}: totals`,
      );
      const ordered = withOrder(shape);
      const budgets = [1, 2, 5, 1 + rnd.int(shape.count), shape.count, shape.count + 10];
      for (const maxNodes of budgets) {
        const expected = referenceTree(shape, tv, maxNodes, tv.total);
        const at = `trial ${trial}, maxNodes ${maxNodes}`;
        assert.deepEqual(asPlain(finishTree(shape, tv, maxNodes)), expected, at);
        assert.deepEqual(asPlain(finishTree(ordered, tv, maxNodes)), expected, `${at}, stored order`);
      }
    }
  });

  it('ranks by a separate measure (diff) the same way', () => {
    const rnd = seededRandom(77);
    for (let trial = 0; trial < 100; trial++) {
      const { shape, leaves, values } = randomTree(rnd, false);
      const tv = treeValues(shape, leaves, values);
      const measure = Float64Array.from({ length: shape.count }, () => rnd.int(5) / 4);
      // A parent's measure can be below its child's here, so kept nodes under a dropped parent go.
      const ordered = withOrder(shape);
      for (const maxNodes of [1, 3, 1 + rnd.int(shape.count), shape.count]) {
        const expected = referenceTree(shape, tv, maxNodes, measure);
        const at = `trial ${trial}, maxNodes ${maxNodes}`;
        assert.deepEqual(asPlain(finishTree(shape, tv, maxNodes, measure)), expected, at);
        assert.deepEqual(
          asPlain(finishTree(ordered, tv, maxNodes, measure)),
          expected,
          `${at}, stored order`,
        );
      }
    }
  });

  it('orders equal names by their first kept node when truncation reverses the stored order', () => {
    // Frames 0 and 1 are both "f": in the whole tree frame 0's first node (1) comes first, but the budget
    // drops it, and frame 1's node 3 precedes frame 0's kept node 4 under "g".
    const names = ['f', 'f', 'g'];
    const parent = Int32Array.from([-1, 0, 0, 2, 2]);
    const frame = Int32Array.from([-1, 0, 2, 1, 0]);
    const shape: TreeShape = {
      parent,
      frame,
      count: 5,
      frameName: (f) => names[f]!,
      frameType: (f) => `type${f}`,
      rootName: 'total',
      rootFrameType: '',
    };
    const tv = treeValues(shape, [1, 3, 4], [1n, 5n, 6n]);
    const expected = referenceTree(shape, tv, 4, tv.total);
    assert.deepEqual(expected.frameType, ['', 'type2', 'type1', 'type0'], 'the reference: frame 1 first');
    assert.deepEqual(asPlain(finishTree(withOrder(shape), tv, 4)), expected);
    assert.deepEqual(asPlain(finishTree(shape, tv, 4)), expected);
  });
});
