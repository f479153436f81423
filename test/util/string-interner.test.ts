import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StringInterner } from '../../src/util/string-interner.js';

/** A new string object with the same content (what JSON.parse hands over on every row). */
function copy(s: string): string {
  return [...s].join('');
}

const LONG = 'frame_name_of_some_length; '.repeat(40);

describe('StringInterner', () => {
  it('gives equal strings (distinct objects) one id and different strings different ids', () => {
    const interner = new StringInterner(2);
    const a = interner.idOf(LONG);
    assert.equal(interner.idOf(copy(LONG)), a);
    assert.notEqual(interner.idOf(`x${LONG.slice(1)}`), a);
    assert.equal(interner.idOf('short'), interner.idOf(copy('short')));
    assert.notEqual(interner.idOf('short'), interner.idOf('shorT'));
    assert.equal(interner.size, 4);
  });

  it('tells apart strings that differ only where no character is sampled (full buckets included)', () => {
    const interner = new StringInterner(2);
    // Same length, one character changed at each of 60 consecutive positions: most positions are
    // not sampled, so most of these share one sampled hash and overflow its bucket.
    const variants = Array.from({ length: 60 }, (_, i) => `${LONG.slice(0, 200 + i)}#${LONG.slice(201 + i)}`);
    const ids = variants.map((v) => interner.idOf(v));
    assert.equal(new Set(ids).size, variants.length, 'every variant has its own id');
    assert.deepEqual(
      variants.map((v) => interner.idOf(copy(v))),
      ids,
      'looking them up again finds the same ids',
    );
    assert.equal(interner.size, variants.length);
  });

  it('forgets strings unused for `generations` flushes and never reuses an id', () => {
    const interner = new StringInterner(2);
    const kept = interner.idOf(LONG);
    const dropped = interner.idOf(`${LONG}x`);
    const short = interner.idOf('short');
    interner.advance();
    assert.equal(interner.idOf(copy(LONG)), kept, 'used in the previous generation: still known');
    interner.advance();
    assert.equal(interner.size, 1, 'the others were unused for two generations');
    const again = interner.idOf(`${LONG}x`);
    assert.notEqual(again, dropped, 'a forgotten string comes back with a new id');
    assert.ok(again > kept && again > short, 'ids only grow');
    assert.notEqual(interner.idOf('short'), short);
  });

  it('keeps the id of a string that overflowed a full bucket after the bucket empties', () => {
    const interner = new StringInterner(2);
    // Variants at unsampled positions share one sampled hash: the first four fill its bucket.
    const variants = Array.from({ length: 60 }, (_, i) => `${LONG.slice(0, 200 + i)}#${LONG.slice(201 + i)}`);
    const ids = variants.map((v) => interner.idOf(v));
    const last = variants.length - 1;
    interner.advance();
    interner.idOf(variants[last]!); // only this one stays in use
    interner.advance(); // the bucket's members were unused for two generations: it empties
    assert.equal(interner.idOf(copy(variants[last]!)), ids[last], 'same string, same id');
    assert.equal(interner.size, 1);
  });
});
