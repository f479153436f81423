import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { framesHash, StackLeafCache } from '../../src/store/stack-leaf-cache.js';

const frames = (...ids: number[]): Int32Array => Int32Array.from(ids);

describe('stack leaf cache', () => {
  it('finds a stored stack by its frames, and nothing for a prefix, an extension or another order', () => {
    const cache = new StackLeafCache();
    const stack = frames(1, 2, 3);
    assert.equal(cache.get(stack, 3, framesHash(stack, 3)), -1);
    cache.set(stack, 3, framesHash(stack, 3), 42);
    assert.equal(cache.get(frames(1, 2, 3), 3, framesHash(stack, 3)), 42);
    for (const other of [frames(1, 2), frames(1, 2, 3, 4), frames(3, 2, 1)])
      assert.equal(cache.get(other, other.length, framesHash(other, other.length)), -1);
    // Only the first `length` ids count: a longer scratch buffer holds the same stack.
    assert.equal(cache.get(frames(1, 2, 3, 99), 3, framesHash(stack, 3)), 42);
  });

  it('tells apart stacks whose hashes collide (every hit is compared frame by frame)', () => {
    const cache = new StackLeafCache();
    const hash = 7;
    cache.set(frames(1, 2), 2, hash, 10);
    cache.set(frames(2, 1), 2, hash, 20);
    cache.set(frames(5), 1, hash, 30);
    assert.equal(cache.get(frames(1, 2), 2, hash), 10);
    assert.equal(cache.get(frames(2, 1), 2, hash), 20);
    assert.equal(cache.get(frames(5), 1, hash), 30);
    assert.equal(cache.get(frames(6), 1, hash), -1);
  });

  it('keeps every stack across growth, and starts over instead of growing past its bounds', () => {
    const cache = new StackLeafCache();
    const depth = 40;
    const stackOf = (i: number): Int32Array => Int32Array.from({ length: depth }, (_, d) => i * depth + d);
    // 2^21 frames at most: 52,428 stacks of 40 fit, the next one starts over.
    const fit = Math.floor(2 ** 21 / depth);
    for (let i = 0; i < fit; i++) cache.set(stackOf(i), depth, framesHash(stackOf(i), depth), i);
    assert.equal(cache.size, fit);
    for (const i of [0, 1, fit >> 1, fit - 1])
      assert.equal(cache.get(stackOf(i), depth, framesHash(stackOf(i), depth)), i);
    cache.set(stackOf(fit), depth, framesHash(stackOf(fit), depth), fit);
    assert.equal(cache.size, 1);
    assert.equal(cache.get(stackOf(0), depth, framesHash(stackOf(0), depth)), -1);
    assert.equal(cache.get(stackOf(fit), depth, framesHash(stackOf(fit), depth)), fit);
  });

  it('forgets everything on clear', () => {
    const cache = new StackLeafCache();
    cache.set(frames(1), 1, framesHash(frames(1), 1), 3);
    cache.clear();
    assert.equal(cache.get(frames(1), 1, framesHash(frames(1), 1)), -1);
    assert.equal(cache.size, 0);
  });
});
