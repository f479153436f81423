import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StoreDictionary } from '../../src/store/store-dictionary.js';

/** A deterministic tree of `count` nodes: node i hangs under an earlier node with a frame from a small set. */
function buildTree(dict: StoreDictionary, count: number): { parent: number; frame: number; id: number }[] {
  const added: { parent: number; frame: number; id: number }[] = [];
  let seed = 12345;
  const next = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  while (dict.nodeCount < count) {
    const parent = next(dict.nodeCount);
    const frame = next(5000);
    const before = dict.nodeCount;
    const id = dict.childNode(parent, frame);
    if (dict.nodeCount > before) added.push({ parent, frame, id });
  }
  return added;
}

describe('prefix-tree child lookup', () => {
  it('finds every node again by (parent, frame) across table growth, and never creates a duplicate', () => {
    const dict = new StoreDictionary();
    // Past several doublings of the table (it starts at 2^17 slots, at most half full).
    const added = buildTree(dict, 300_000);
    for (const { parent, frame, id } of added) {
      assert.equal(dict.nodeParent[id], parent);
      assert.equal(dict.nodeFrame[id], frame);
      assert.equal(dict.childNode(parent, frame), id);
    }
    assert.equal(dict.nodeCount, 300_000, 'lookups of known children add nothing');
  });

  it('after a rollback, forgotten children are created again with fresh ids and kept ones are found', () => {
    const dict = new StoreDictionary();
    const kept = buildTree(dict, 1_000);
    const mark = dict.mark();
    assert.equal(dict.childNode(1, 777_777), 1_000);
    assert.equal(dict.childNode(2, 777_778), 1_001);
    dict.rollback(mark);
    assert.equal(dict.nodeCount, 1_000);
    for (const { parent, frame, id } of kept) assert.equal(dict.childNode(parent, frame), id);
    // The second forgotten child first: it must become node 1000, not the forgotten id 1001.
    assert.equal(dict.childNode(2, 777_778), 1_000);
    assert.equal(dict.childNode(1, 777_777), 1_001);
    assert.equal(dict.nodeCount, 1_002);
    assert.deepEqual([dict.nodeParent[1_000], dict.nodeFrame[1_000]], [2, 777_778]);
  });
});
