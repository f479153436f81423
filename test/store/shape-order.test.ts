import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { shapeOrder } from '../../src/store/shape-order.js';
import {
  captureRequests,
  expectedSamples,
  selection,
  sumsByPath,
  tempDir,
  treeByPath,
} from './store-fixtures.js';

describe('shape order', () => {
  it('lists the nodes in pre-order, children by name (equal names by first node), with subtree ends', () => {
    // Node (frame name, frame id): 0 ─┬─ 1 (b, 0) ── 4 (a, 1)
    //                                ├─ 2 (a, 1) ─┬─ 5 (c, 3)
    //                                │            └─ 6 (c, 2)
    //                                └─ 3 (c, 2)
    const names = ['b', 'a', 'c', 'c'];
    const parent = Int32Array.from([-1, 0, 0, 0, 1, 2, 2]);
    const frame = Int32Array.from([-1, 0, 1, 2, 1, 3, 2]);
    const order = shapeOrder(parent, frame, 7, (f) => names[f]!);
    assert.equal(order.count, 7);
    // Frames by name: a (1), b (0), then the two "c" by first node: frame 2 (node 3) before frame 3 (node 5).
    assert.deepEqual(Array.from(order.frames), [1, 0, 2, 3]);
    assert.deepEqual(Array.from(order.sameNameAsPrevious), [0, 0, 0, 1]);
    assert.deepEqual(Array.from(order.nodes), [0, 2, 6, 5, 1, 4, 3]);
    assert.deepEqual(Array.from(order.subtreeEnd), [7, 4, 3, 4, 6, 6, 7]);
  });

  it("the store's flame graphs, ordered per query or by the stored order, follow its tree as stacks arrive", async () => {
    const dir = tempDir();
    const requests = captureRequests(4);
    const store = await openProfileStore(dir.path, { logger: silentLogger });
    try {
      const half = Math.ceil(requests.length / 2);
      for (const r of requests.slice(0, half)) await store.ingest(r);
      // The first query at a version of the tree orders its nodes itself, the second builds the stored order.
      const first = await store.flameGraph(selection());
      assert.deepEqual(await store.flameGraph(selection()), first);
      const before = treeByPath(first);
      assert.deepEqual(before.self, numbers(sumsByPath(expectedSamples(requests.slice(0, half)))));
      for (const r of requests.slice(half)) await store.ingest(r);
      const truncated = await store.flameGraph(selection(), { maxNodes: 50 });
      assert.ok(truncated.truncated > 0);
      const tree = await store.flameGraph(selection());
      assert.deepEqual(await store.flameGraph(selection(), { maxNodes: 50 }), truncated);
      const after = treeByPath(tree);
      assert.ok(
        [...after.total.keys()].some((path) => !before.total.has(path)),
        'the later requests add stacks (nodes) the first query did not see',
      );
      assert.deepEqual(after.self, numbers(sumsByPath(expectedSamples(requests))));
      // Children by name: a node's next sibling in pre-order never has a smaller name.
      const lastChildName = new Map<number, string>();
      for (let i = 1; i < tree.name.length; i++) {
        const name = tree.names[tree.name[i]!]!;
        const previous = lastChildName.get(tree.parent[i]!);
        assert.ok(previous === undefined || previous <= name, `${previous} before ${name}`);
        lastChildName.set(tree.parent[i]!, name);
      }
    } finally {
      await store.close();
      dir.remove();
    }
  });
});

function numbers(sums: Map<string, bigint>): Map<string, number> {
  return new Map([...sums].map(([path, v]) => [path, Number(v)]));
}
