import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { grownArray } from '../../src/util/grown-array.js';

describe('grownArray', () => {
  it('doubles, keeps the elements and the element type', () => {
    const a = Int32Array.from([1, -2, 3]);
    const b = grownArray(a);
    assert.ok(b instanceof Int32Array);
    assert.equal(b.length, 6);
    assert.deepEqual([...b], [1, -2, 3, 0, 0, 0]);
    const u = grownArray(Uint32Array.from([7, 0xffffffff]));
    assert.ok(u instanceof Uint32Array);
    assert.deepEqual([...u], [7, 0xffffffff, 0, 0]);
  });

  it('grows to at least what is asked when that is more than double', () => {
    assert.equal(grownArray(new Int32Array(2), 9).length, 9);
    assert.equal(grownArray(new Int32Array(0), 4).length, 4);
  });

  it('copies only the used prefix', () => {
    const b = grownArray(Uint32Array.from([1, 2, 3, 4]), 0, 2);
    assert.deepEqual([...b], [1, 2, 0, 0, 0, 0, 0, 0]);
  });
});
