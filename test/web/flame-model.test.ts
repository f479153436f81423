import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DiffTreeJson, FlameTreeJson } from '../../web/api-types.js';
import {
  buildFlameModel,
  diffWeights,
  findByPath,
  MalformedTreeError,
  nodeAt,
  nodeName,
  pathOf,
} from '../../web/flame-model.js';
import { matchTree, searchPredicate } from '../../web/flame-search.js';
import { diffParams, selectionParams, stateFromQuery, stateToQuery } from '../../web/page-state.js';
import { syntheticFlameTree, totalsFromSelf } from './synthetic-flame-tree.js';

/** A tree from folded stacks (`a;b;c value`), numbered in the order stacks first appear. */
function treeOf(folded: Record<string, number>): FlameTreeJson {
  const names = ['total'];
  const name = [0];
  const parent = [-1];
  const self = [0];
  const index = new Map<string, number>();
  const byKey = new Map<string, number>();
  // Pre-order numbering: insert every prefix before its extensions, stacks sorted to keep subtrees contiguous.
  for (const stack of Object.keys(folded).sort()) {
    let p = 0;
    let key = '';
    for (const frame of stack.split(';')) {
      key += `;${frame}`;
      let id = byKey.get(key);
      if (id === undefined) {
        id = parent.length;
        let n = index.get(frame);
        if (n === undefined) {
          n = names.length;
          names.push(frame);
          index.set(frame, n);
        }
        name.push(n);
        parent.push(p);
        self.push(0);
        byKey.set(key, id);
      }
      p = id;
    }
    self[p] = (self[p] as number) + (folded[stack] as number);
  }
  const total = totalsFromSelf(parent, self);
  return {
    names,
    name,
    parent,
    frameType: name.map(() => 'native'),
    total,
    self,
    rootTotal: String(total[0]),
    truncated: 0,
  };
}

describe('flame model: the icicle layout of a server tree', () => {
  it('orders children by name, lays them out left to right and keeps each subtree contiguous', () => {
    const model = buildFlameModel(treeOf({ 'main;zeta': 3, 'main;alpha;x': 2, 'main;alpha': 1, other: 4 }));
    const main = findByPath(model, ['main']).id;
    const alpha = findByPath(model, ['main', 'alpha']).id;
    const zeta = findByPath(model, ['main', 'zeta']).id;
    assert.equal(model.start[alpha], model.start[main]);
    assert.equal(model.start[zeta], (model.start[main] as number) + (model.weight[alpha] as number));
    assert.equal(model.weight[main], 6);
    assert.equal(model.maxDepth, 3);
    const pos = model.position[main] as number;
    const inside = [...model.order.subarray(pos, model.subtreeEnd[pos])].map((id) =>
      nodeName(model.tree, id),
    );
    assert.deepEqual(inside, ['main', 'alpha', 'x', 'zeta']);
    assert.equal(nodeAt(model, 0, 2, model.start[zeta] + 0.5), zeta);
    assert.equal(nodeAt(model, zeta, 0, 0), 0, 'above the zoomed frame: its ancestors');
    assert.equal(nodeAt(model, 0, 3, model.start[zeta]), -1, 'nothing below zeta');
  });

  it('finds a zoomed frame again by its path in a refreshed tree whose node numbers changed', () => {
    const before = buildFlameModel(treeOf({ 'main;work;hash': 5, 'main;idle': 1 }));
    const zoom = pathOf(before, findByPath(before, ['main', 'work']).id);
    assert.deepEqual(zoom, ['main', 'work']);
    const after = buildFlameModel(
      treeOf({ 'a;b': 9, 'main;idle': 2, 'main;work;hash': 8, 'main;work;sort': 1 }),
    );
    const found = findByPath(after, zoom);
    assert.equal(found.matched, 2);
    assert.equal(after.tree.total[found.id], 9);
    assert.notEqual(found.id, findByPath(before, zoom).id, 'the test is only meaningful if ids moved');
    const gone = findByPath(after, ['main', 'vanished', 'x']);
    assert.deepEqual(
      { matched: gone.matched, name: nodeName(after.tree, gone.id) },
      { matched: 1, name: 'main' },
    );
  });

  it('refuses a tree that is not in pre-order, naming the node', () => {
    const tree = treeOf({ 'a;b': 1 });
    assert.throws(
      () => buildFlameModel({ ...tree, parent: [-1, 2, 0] }),
      (err: unknown) => err instanceof MalformedTreeError && /node 1 has parent 2/.test(err.message),
    );
    assert.throws(() => buildFlameModel({ ...tree, self: [0] }), /field "self" has 1 entries for 3 nodes/);
  });

  it('lays out a 100k-node tree with every node inside its parent', () => {
    const model = buildFlameModel(syntheticFlameTree(100_000));
    assert.equal(model.size, 100_000);
    for (let id = 1; id < model.size; id++) {
      const p = model.tree.parent[id] as number;
      assert.ok((model.start[id] as number) >= (model.start[p] as number));
      assert.ok(
        (model.start[id] as number) + (model.weight[id] as number) <=
          (model.start[p] as number) + (model.weight[p] as number) + 1e-6,
      );
      assert.equal(model.depth[id], (model.depth[p] as number) + 1);
    }
  });
});

describe('flame search', () => {
  it('sums matching frames counting each stack once (recursion, two matches on one stack)', () => {
    const model = buildFlameModel(
      treeOf({ 'main;parse;parse;lex': 4, 'main;parse': 1, 'main;render': 2, 'gc;parse_roots': 3 }),
    );
    const predicate = searchPredicate('PARSE');
    assert.ok(predicate.ok);
    const found = matchTree(model, predicate.test);
    assert.equal(found.nodes, 3, 'parse, parse (recursive) and parse_roots');
    assert.equal(
      found.total,
      5 + 3,
      'outer parse (5) + parse_roots (3); the inner parse is inside the outer',
    );
  });

  it('takes /regex/ and reports an invalid one instead of searching for its text', () => {
    const model = buildFlameModel(treeOf({ 'main;parse': 1, 'main;render': 2 }));
    const re = searchPredicate('/^rend/');
    assert.ok(re.ok);
    assert.equal(matchTree(model, re.test).total, 2);
    const bad = searchPredicate('/(/');
    assert.equal(bad.ok, false);
    assert.match(bad.ok ? '' : bad.error, /invalid regular expression/);
  });

  it('a diff sums both sides and widens frames by the sum of both shares', () => {
    const a = treeOf({ 'main;old': 3, 'main;same': 1 });
    const diff: DiffTreeJson = { ...a, totalB: [8, 8, 0, 8], selfB: [0, 0, 0, 8], rootTotalB: '8' };
    // Node ids: 0 total, 1 main, 2 old, 3 same (pre-order of the sorted stacks); B only has "same".
    assert.equal(nodeName(diff, 2), 'old');
    const weights = diffWeights(diff);
    assert.deepEqual([...weights], [2, 2, 0.75, 1.25]);
    const model = buildFlameModel(diff, weights);
    const found = matchTree(model, (n) => n === 'same');
    assert.deepEqual({ total: found.total, totalB: found.totalB }, { total: 1, totalB: 8 });
  });
});

describe('page state: everything in the URL', () => {
  it('round-trips selection, filters (OR within a key), diff overrides and ui.* state', () => {
    const query =
      'type=samples%2Fcount&from=1000&to=2000&k8s.namespace.name=shop&k8s.namespace.name=web&service.name=cart' +
      '&diff.from=3000&diff.k8s.namespace.name=&traceId=0123456789abcdef0123456789abcdef' +
      '&ui.view=diff&ui.zoom=%5B%22main%22%2C%22a%3Bb%22%5D&ui.search=hash&ui.hl=memcpy&ui.live=1';
    const state = stateFromQuery(query);
    assert.deepEqual(Object.fromEntries(state.filters), {
      'k8s.namespace.name': ['shop', 'web'],
      'service.name': ['cart'],
    });
    assert.deepEqual(Object.fromEntries(state.diff.filters), { 'k8s.namespace.name': [] });
    assert.deepEqual(state.zoom, ['main', 'a;b']);
    assert.equal(state.view, 'diff');
    assert.equal(state.live, true);
    assert.deepEqual(stateFromQuery(stateToQuery(state)), state);
    const api = selectionParams(state);
    assert.equal(api.get('from'), '1000');
    assert.deepEqual(api.getAll('k8s.namespace.name'), ['shop', 'web']);
    assert.equal(
      [...api.keys()].some((k) => k.startsWith('ui.') || k.startsWith('diff.')),
      false,
    );
    const withB = diffParams(state);
    assert.equal(withB.get('diff.from'), '3000');
    assert.equal(withB.get('diff.k8s.namespace.name'), '', 'an empty override removes A’s filter in B');
  });

  it('accepts RFC 3339 times and ignores a garbled zoom or view', () => {
    const state = stateFromQuery('from=2026-12-07T00:00:00Z&ui.zoom=%5Bnot-json&ui.view=bogus');
    assert.equal(state.from, Date.UTC(2026, 11, 7));
    assert.deepEqual(state.zoom, []);
    assert.equal(state.view, 'flame');
  });
});
