import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  createCollectionTimeline,
  TILING_GAP_INTERVALS,
  ZERO_INTERVAL_FALLBACK_NANO,
} from '../../src/gadget-bridge/collection-timeline.js';
import type {
  CollectionTimelineOptions,
  CollectionWindow,
} from '../../src/gadget-bridge/collection-timeline.js';

// The rule itself; the sources that apply it are tested in json/json-row-source-windows.test.ts,
// grpc/grpc-row-source-windows.test.ts and relay/relay-row-source.test.ts.

const SEC = 1_000_000_000n;
const START = 1_760_000_000n * SEC;

function live(overrides: Partial<CollectionTimelineOptions> = {}) {
  let t = START;
  const timeline = createCollectionTimeline({
    mode: 'live',
    now: () => t,
    sourceStartNano: START,
    ...overrides,
  });
  return {
    at: (time: bigint, stream = 's', interval = SEC): CollectionWindow => {
      t = time;
      return timeline.arrival(stream, interval);
    },
    timeline,
  };
}
const pair = (w: CollectionWindow): [bigint, bigint] => [w.startNano, w.endNano];

describe('collection timeline', () => {
  it('tiles arrivals up to two intervals apart and starts one interval back after a longer gap', () => {
    assert.equal(TILING_GAP_INTERVALS, 2n);
    const { at } = live();
    assert.deepEqual(pair(at(START + 3n * SEC)), [START + 2n * SEC, START + 3n * SEC]);
    assert.deepEqual(pair(at(START + 5n * SEC)), [START + 3n * SEC, START + 5n * SEC]); // gap exactly 2 intervals
    assert.deepEqual(pair(at(START + 7n * SEC + 1n)), [START + 6n * SEC + 1n, START + 7n * SEC + 1n]); // just over
  });

  it('keeps one timeline per stream', () => {
    const { at } = live();
    at(START + SEC, 'a');
    assert.deepEqual(pair(at(START + 1500n * 1_000_000n, 'b')), [
      START + 500n * 1_000_000n,
      START + 1500n * 1_000_000n,
    ]);
    assert.deepEqual(pair(at(START + 2n * SEC, 'a')), [START + SEC, START + 2n * SEC]);
  });

  it('first arrival: from the source start, or a whole interval when the producer ran before', () => {
    assert.deepEqual(pair(live().at(START + 300_000_000n)), [START, START + 300_000_000n]);
    assert.deepEqual(pair(live({ firstArrival: 'one-interval' }).at(START + 300_000_000n)), [
      START + 300_000_000n - SEC,
      START + 300_000_000n,
    ]);
  });

  it('arrival times strictly increase per stream and a window is never empty', () => {
    const { at } = live();
    at(START + SEC);
    assert.deepEqual(pair(at(START + SEC)), [START + SEC, START + SEC + 1n]);
    assert.deepEqual(pair(at(START + SEC - 5n)), [START + SEC + 1n, START + SEC + 2n]); // a clock step back
  });

  it('interval 0: from the previous end, or else the source start', () => {
    const { at } = live();
    assert.deepEqual(pair(at(START + 42n * SEC, 's', 0n)), [START, START + 42n * SEC]);
    assert.deepEqual(pair(at(START + 50n * SEC, 's', 0n)), [START + 42n * SEC, START + 50n * SEC]);
  });

  it('stamped windows: the same rules on their own timeline, the first one interval long', () => {
    const { timeline } = live();
    const w = (end: bigint): [bigint, bigint] => pair(timeline.stamped('s', end, SEC));
    assert.deepEqual(w(START - 100n * SEC), [START - 101n * SEC, START - 100n * SEC]); // before the source: kept
    assert.deepEqual(w(START - 99n * SEC), [START - 100n * SEC, START - 99n * SEC]);
    assert.deepEqual(w(START - 99n * SEC - 1n), [START - 100n * SEC - 1n, START - 99n * SEC - 1n]); // out of order
    assert.deepEqual(w(START - 90n * SEC), [START - 91n * SEC, START - 90n * SEC]); // gap
    assert.deepEqual(pair(timeline.stamped('t', START + SEC, 0n)), [START, START + SEC]);
    assert.deepEqual(pair(timeline.stamped('u', START - SEC, 0n)), [
      START - SEC - ZERO_INTERVAL_FALLBACK_NANO,
      START - SEC,
    ]);
  });

  it('replay: back to back, one interval per slot, ending at now(); skipped slots keep their place', () => {
    const timeline = createCollectionTimeline({ mode: 'replay', now: () => START, sourceStartNano: 0n });
    timeline.startReplay(3);
    const first = timeline.arrival('s', 2n * SEC);
    timeline.skipSlot();
    const last = timeline.arrival('other', 5n * SEC); // the replay's interval is fixed by its first emission
    assert.deepEqual(pair(first), [START - 6n * SEC, START - 4n * SEC]);
    assert.deepEqual(pair(last), [START - 2n * SEC, START]);
  });
});
