import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReplayFilter } from '../../../src/gadget-bridge/grpc/replay-filter.js';

/** Feeds `replay` after `seen` was delivered; returns what gets delivered and the skip count. */
function run(
  seen: string[],
  replay: string[],
  flush = true,
  capacity?: number,
): { delivered: string[]; skipped: number } {
  const f = new ReplayFilter<string>(capacity);
  for (const s of seen) f.remember(s);
  f.beginReplay();
  const delivered: string[] = [];
  let skipped = 0;
  const take = (d: { deliver: string[]; duplicates: number }): void => {
    delivered.push(...d.deliver);
    skipped += d.duplicates;
    for (const x of d.deliver) f.remember(x);
  };
  for (const r of replay) take(f.offer(r, r));
  if (flush) take(f.flush());
  return { delivered, skipped };
}

describe('ReplayFilter', () => {
  it('drops the replayed head that continues what was delivered, keeps the rest', () => {
    assert.deepEqual(run(['a', 'b', 'c', 'd'], ['b', 'c', 'd', 'e', 'f']), {
      delivered: ['e', 'f'],
      skipped: 3,
    });
  });
  it('decides without waiting for the end once the overlap is certain', () => {
    assert.deepEqual(run(['a', 'b', 'c'], ['b', 'c', 'x'], false), { delivered: ['x'], skipped: 2 });
  });
  it('delivers everything from a restarted instance (no overlap)', () => {
    assert.deepEqual(run(['a', 'b'], ['p', 'q']), { delivered: ['p', 'q'], skipped: 0 });
  });
  it('delivers everything when nothing was delivered before', () => {
    assert.deepEqual(run([], ['a', 'a']), { delivered: ['a', 'a'], skipped: 0 });
  });
  it('prefers the longest overlap with repeated payloads (never a duplicate)', () => {
    assert.deepEqual(run(['a', 'b', 'a'], ['a', 'b', 'a', 'c']), { delivered: ['c'], skipped: 3 });
    assert.deepEqual(run(['e', 'e', 'e'], ['e', 'e', 'e', 'e', 'n']), { delivered: ['e', 'n'], skipped: 3 });
  });
  it('a mismatch after a partial match releases the held events', () => {
    assert.deepEqual(run(['a', 'b', 'c'], ['a', 'b', 'x'], false), {
      delivered: ['a', 'b', 'x'],
      skipped: 0,
    });
  });
  it('only compares against the remembered tail (capacity)', () => {
    assert.deepEqual(run(['a', 'b', 'c', 'd'], ['c', 'd', 'e'], true, 2), { delivered: ['e'], skipped: 2 });
  });

  it('a stream that ended before its first event replayed nothing: not reported as a gap', () => {
    const f = new ReplayFilter<string>();
    f.remember('a');
    f.beginReplay();
    assert.deepEqual(f.flush(), { deliver: [], duplicates: 0, noOverlap: false });
    f.beginReplay();
    assert.equal(f.offer('z', 'z').noOverlap, true, 'a replay that does not continue what was seen is');
  });
});
