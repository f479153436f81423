import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TupleTrie } from '../../src/util/tuple-trie.js';

/** A new string object with the same content (what JSON.parse hands over on every row). */
function copy(s: string): string {
  return [...s].join('');
}

/** A Map keyed by the tuple's JSON-ish text: the reference the trie must agree with. */
function referenceKey(tuple: readonly unknown[]): string {
  return tuple
    .map((v) => (typeof v === 'bigint' ? `${v}n` : typeof v === 'string' ? JSON.stringify(v) : String(v)))
    .join('|');
}

describe('TupleTrie', () => {
  it('finds a tuple by equal values (strings by content, not identity)', () => {
    const trie = new TupleTrie<{ id: number }>();
    const stack = 'vfs_read; ksys_read; '.repeat(30);
    const value = { id: 1 };
    trie.set(['node-a', stack, 42], value);
    assert.equal(trie.get(['node-a', stack, 42]), value);
    assert.equal(trie.get([copy('node-a'), copy(stack), 42]), value);
    assert.equal(trie.get(['node-a', stack, 43]), undefined);
    assert.equal(trie.get(['node-b', stack, 42]), undefined);
    assert.equal(trie.get(['node-a', `${stack}x`, 42]), undefined);
  });

  it('compares elements as Map keys do: NaN equals NaN, 1 and "1" and 1n differ, undefined and null differ', () => {
    const trie = new TupleTrie<{ v: string }>();
    const cases: unknown[][] = [[NaN], [1], ['1'], [1n], [undefined], [null], [''], [0], [-0]];
    for (const c of cases) if (trie.get(c) === undefined) trie.set(c, { v: referenceKey(c) });
    // -0 and 0 are one key (SameValueZero), so 8 distinct tuples.
    assert.equal(trie.size, 8);
    assert.equal(trie.get([NaN])?.v, 'NaN');
    assert.equal(trie.get([1])?.v, '1');
    assert.equal(trie.get(['1'])?.v, '"1"');
    assert.equal(trie.get([1n])?.v, '1n');
    assert.equal(trie.get([undefined])?.v, 'undefined');
    assert.equal(trie.get([null])?.v, 'null');
    assert.equal(trie.get([-0])?.v, '0');
  });

  it('agrees with a Map keyed by the joined tuple over random tuples, with levels of one and many values', () => {
    let seed = 7;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    // Few values per position, so levels go from one value to many as the run goes on.
    const pools: unknown[][] = [
      ['a', 'b', 'c'],
      [1, 2, 3, 4, 5, 6, 7, 8, 9],
      ['', 'x', 'y', undefined],
      [0, 1n, 'z'],
    ];
    const trie = new TupleTrie<{ n: number }>();
    const reference = new Map<string, { n: number }>();
    for (let i = 0; i < 3000; i++) {
      const tuple = pools.map((pool) => pool[rand(pool.length)]);
      const key = referenceKey(tuple);
      assert.equal(trie.get(tuple), reference.get(key), `lookup ${i}: ${key}`);
      if (rand(3) === 0 || !reference.has(key)) {
        const value = { n: i };
        trie.set(tuple, value);
        reference.set(key, value);
      }
    }
    assert.equal(trie.size, reference.size);
    let checked = 0;
    for (const a of pools[0]!)
      for (const b of pools[1]!)
        for (const c of pools[2]!)
          for (const d of pools[3]!) {
            assert.equal(trie.get([a, b, c, d]), reference.get(referenceKey([a, b, c, d])));
            checked++;
          }
    assert.equal(checked, 3 * 9 * 4 * 3);
  });

  it('replaces the value of a tuple already stored, and forgets everything on clear()', () => {
    const trie = new TupleTrie<{ n: number }>();
    trie.set(['a', 'b'], { n: 1 });
    trie.set(['a', 'b'], { n: 2 });
    trie.set(['a', 'c'], { n: 3 });
    assert.equal(trie.size, 2);
    assert.equal(trie.get(['a', 'b'])?.n, 2);
    assert.equal(trie.get(['a', 'c'])?.n, 3);
    trie.clear();
    assert.equal(trie.size, 0);
    assert.equal(trie.get(['a', 'b']), undefined);
  });

  it('stores the empty tuple', () => {
    const trie = new TupleTrie<{ n: number }>();
    assert.equal(trie.get([]), undefined);
    trie.set([], { n: 1 });
    assert.equal(trie.get([])?.n, 1);
    assert.equal(trie.size, 1);
  });
});
