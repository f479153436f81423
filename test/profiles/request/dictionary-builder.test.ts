import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DictionaryBuilder, stackHash } from '../../../src/profiles/request/dictionary-builder.js';

describe('DictionaryBuilder stacks', () => {
  it('one index per distinct location sequence: order, length and every element count', () => {
    let seed = 3;
    const rand = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const dict = new DictionaryBuilder();
    const reference = new Map<string, number>();
    // Few location indices, short sequences: many equal, many near-equal (permutations, prefixes).
    for (let i = 0; i < 5000; i++) {
      const sequence = Array.from({ length: 1 + rand(6) }, () => 1 + rand(4));
      const key = sequence.join(',');
      const index = dict.stack(sequence);
      const known = reference.get(key);
      if (known === undefined) {
        assert.ok(![...reference.values()].includes(index), `${key} got a new index`);
        reference.set(key, index);
      } else assert.equal(index, known, key);
    }
    const table = dict.build().stackTable;
    assert.equal(table.length, reference.size + 1, 'the zero stack plus one per distinct sequence');
    for (const [key, index] of reference) assert.equal(table[index]!.locationIndices.join(','), key);
  });

  it('tells apart different sequences whose hashes collide', () => {
    // Two-element sequences collide when the second elements cancel the first ones' difference
    // (the hash xors each index into the state, then multiplies); checked, not assumed, below.
    const mix = (a: number): number => Math.imul(2 ^ a, 0x01000193);
    const first = [1, 5];
    const second = [2, (mix(1) ^ mix(2) ^ 5) >>> 0];
    assert.equal(stackHash(first), stackHash(second), 'the two sequences collide');
    const dict = new DictionaryBuilder();
    const a = dict.stack(first);
    const b = dict.stack(second);
    assert.notEqual(a, b);
    assert.equal(dict.stack([...first]), a);
    assert.equal(dict.stack([...second]), b);
  });
});
