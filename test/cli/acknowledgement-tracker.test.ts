import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AcknowledgementTracker } from '../../src/cli/acknowledgement-tracker.js';

describe('AcknowledgementTracker', () => {
  it('acknowledges in order, once the slowest pipeline of each batch has flushed past it', () => {
    const fast = { flushedThrough: 0 };
    const slow = { flushedThrough: 0 };
    const acked: string[] = [];
    const tracker = new AcknowledgementTracker();
    tracker.track(
      () => acked.push('a'),
      [
        { pipeline: fast, count: 1 },
        { pipeline: slow, count: 1 },
      ],
    );
    tracker.track(() => acked.push('b'), [{ pipeline: fast, count: 2 }]);
    tracker.track(() => acked.push('c'), [{ pipeline: slow, count: 2 }]);
    fast.flushedThrough = 2;
    tracker.update();
    assert.deepEqual(acked, [], 'a still waits for the slow pipeline, and b waits behind a');
    slow.flushedThrough = 1;
    tracker.update();
    assert.deepEqual(acked, ['b'], 'a and b are done: only the last one done is called');
    assert.equal(tracker.pending, 1);
    slow.flushedThrough = 2;
    tracker.update();
    assert.deepEqual(acked, ['b', 'c']);
    assert.equal(tracker.pending, 0);
  });

  it('a batch routed to no pipeline is done as soon as everything before it is', () => {
    const p = { flushedThrough: 0 };
    const acked: string[] = [];
    const tracker = new AcknowledgementTracker();
    tracker.track(() => acked.push('dropped-first'), []);
    assert.deepEqual(acked, ['dropped-first']);
    tracker.track(() => acked.push('queued'), [{ pipeline: p, count: 1 }]);
    tracker.track(() => acked.push('dropped-later'), []);
    assert.deepEqual(acked, ['dropped-first']);
    p.flushedThrough = 1;
    tracker.update();
    assert.deepEqual(acked, ['dropped-first', 'dropped-later']);
  });

  it('stays correct over many batches (its list is compacted as it goes)', () => {
    const p = { flushedThrough: 0 };
    let last = -1;
    const tracker = new AcknowledgementTracker();
    for (let i = 0; i < 5000; i++) {
      const id = i;
      tracker.track(() => (last = id), [{ pipeline: p, count: i + 1 }]);
      if (i % 7 === 0) {
        p.flushedThrough = i + 1;
        tracker.update();
        assert.equal(last, i);
      }
    }
    p.flushedThrough = 5000;
    tracker.update();
    assert.equal(last, 4999);
    assert.equal(tracker.pending, 0);
  });
});
