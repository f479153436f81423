import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TreeShape } from '../../src/store/flame-tree.js';
import { finishTree, PathTree, treeValues } from '../../src/store/flame-tree.js';

/** A tree given as root-first paths of frame names, built through PathTree's parent-pointer shape. */
function shapeOf(paths: readonly string[]): { shape: TreeShape; leafOf: Map<string, number> } {
  const names: string[] = [];
  const tree = new PathTree();
  for (const p of paths)
    tree.add(
      p.split(';').map((n) => (names.includes(n) ? names.indexOf(n) : names.push(n) - 1)),
      0n,
    );
  const parent = Int32Array.from(tree.parent);
  const frame = Int32Array.from(tree.frame);
  const leafOf = new Map<string, number>();
  for (const p of paths) {
    let node = 0;
    for (const n of p.split(';')) {
      const f = names.indexOf(n);
      node = [...parent.keys()].find((i) => parent[i] === node && frame[i] === f)!;
    }
    leafOf.set(p, node);
  }
  return {
    shape: {
      parent,
      frame,
      count: parent.length,
      frameName: (f) => names[f]!,
      frameType: () => 'native',
      rootName: 'total',
      rootFrameType: '',
    },
    leafOf,
  };
}

describe('flame tree', () => {
  const stacks: [string, bigint][] = [
    ['main;b;x', 50n],
    ['main;a;y', 30n],
    ['main;a', 5n],
    ['main;c;z;w', 2n],
    ['main;c;v', 1n],
    ['other', 12n],
  ];
  const { shape, leafOf } = shapeOf(stacks.map(([p]) => p));
  const values = treeValues(
    shape,
    stacks.map(([p]) => leafOf.get(p)!),
    stacks.map(([, v]) => v),
  );

  it('writes every node in pre-order with children sorted by name, totals summing the subtree', () => {
    const tree = finishTree(shape, values);
    const path = (i: number): string =>
      tree.parent[i]! < 0
        ? ''
        : `${path(tree.parent[i]!)}${tree.parent[i] === 0 ? '' : ';'}${tree.names[tree.name[i]!]}`;
    assert.deepEqual(
      Array.from(tree.name, (_, i) => `${path(i)}=${tree.total[i]}/${tree.self[i]}`),
      [
        '=100/0',
        'main=88/0',
        'main;a=35/5',
        'main;a;y=30/30',
        'main;b=50/0',
        'main;b;x=50/50',
        'main;c=3/0',
        'main;c;v=1/1',
        'main;c;z=2/0',
        'main;c;z;w=2/2',
        'other=12/12',
      ],
    );
    assert.equal(tree.rootTotal, '100');
    assert.equal(tree.truncated, 0);
  });

  it('keeps the largest nodes within maxNodes, as a connected tree, and counts the rest', () => {
    const tree = finishTree(shape, values, 6);
    assert.equal(tree.name.length, 6);
    assert.equal(tree.truncated, 11 - 6);
    const kept = new Set(Array.from(tree.name, (n) => tree.names[n]));
    assert.deepEqual([...kept].sort(), ['a', 'b', 'main', 'total', 'x', 'y']);
    for (let i = 1; i < tree.parent.length; i++) assert.ok(tree.parent[i]! >= 0 && tree.parent[i]! < i);
    assert.equal(tree.total[0], 100, 'the root keeps the full total');
  });

  it('never splits a tie across the budget: ties at the threshold are all dropped', () => {
    // Totals 100, 88, 50, 50, 35, 30, 12, 3, 2, 2, 1: a budget of 3 ends inside the tie at 50.
    const tree = finishTree(shape, values, 3);
    assert.deepEqual(
      Array.from(tree.name, (n) => tree.names[n]),
      ['total', 'main'],
    );
  });
});
