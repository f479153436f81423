import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DropLedger } from '../../../src/exporter/delivery/drop-ledger.js';
import { Counters } from '../../../src/observability/counters.js';
import { LossLedger } from '../../../src/observability/loss-ledger.js';
import { recordingLogger } from '../../support/delivery-fakes.js';

function ledger() {
  const counters = new Counters();
  const { logger, lines } = recordingLogger();
  return { drops: new DropLedger('prod', { logger, counters }), counters, lines };
}

describe('drop ledger', () => {
  it('counts a drop in the loss ledger under the exporter and reason, and logs it at the level asked', () => {
    const { drops, counters, lines } = ledger();
    drops.drop('permanent_error', { requests: 1, profiles: 3, samples: 7 }, 'the backend refused it: 400', {
      id: 'b1',
      level: 'error',
    });
    const labels = { exporter: 'prod', reason: 'permanent_error' };
    assert.equal(counters.get('requests_dropped', labels), 1);
    assert.equal(counters.get('profiles_dropped', labels), 3);
    assert.equal(counters.get('samples_dropped', labels), 7);
    assert.equal(lines.length, 1);
    assert.match(
      lines[0]!,
      / ERROR .*dropped 1 request\(s\): the backend refused it: 400.*reason=permanent_error requests=1 profiles=3 samples=7 id=b1/,
    );
    assert.deepEqual(new LossLedger(counters).droppedBy('prod'), {
      permanent_error: { requests: 1, profiles: 3, samples: 7 },
    });
    assert.deepEqual(drops.droppedByReason(), { permanent_error: { requests: 1, profiles: 3, samples: 7 } });
  });

  it('ignores an empty drop', () => {
    const { drops, counters, lines } = ledger();
    drops.drop('shutdown_timeout', { requests: 0, profiles: 0, samples: 0 }, 'nothing left');
    assert.equal(counters.total('requests_dropped'), 0);
    assert.deepEqual(lines, []);
    assert.deepEqual(drops.droppedByReason(), {});
  });

  it('is failing after an export failure until a delivery; other losses are no failure', () => {
    const { drops } = ledger();
    drops.drop('queue_full', { requests: 1, profiles: 1, samples: 1 }, 'full');
    assert.equal(drops.failing, undefined);
    drops.drop('retries_exhausted', { requests: 1, profiles: 1, samples: 1 }, 'still failing');
    assert.equal(drops.failing, 'retries_exhausted: still failing');
    drops.delivered();
    assert.equal(drops.failing, undefined);
  });

  it('words what the queue dropped by itself with the keys that bound it', () => {
    const { drops, counters, lines } = ledger();
    const limits = { maxRequests: 3, maxBytes: 1_000 };
    drops.dropFromQueue({ reason: 'queue_full', id: 'old', bytes: 100, profiles: 2, samples: 5 }, limits);
    drops.dropFromQueue(
      {
        reason: 'corrupt_file',
        bytes: 40,
        profiles: 0,
        samples: 0,
        file: '/q/1.batch',
        problem: 'torn header',
      },
      limits,
    );
    assert.match(
      lines[0]!,
      / WARN .*the queue is full \(queue\.max_requests=3, queue\.max_size=1000 bytes\); dropped the oldest request.*reason=queue_full.*id=old bytes=100/,
    );
    assert.match(
      lines[1]!,
      /persistent queue file \/q\/1\.batch is damaged \(torn header\); it could not be moved aside/,
    );
    assert.equal(counters.get('requests_dropped', { exporter: 'prod', reason: 'corrupt_file' }), 1);
  });

  it('counts profiles the backend rejected apart from drops', () => {
    const { drops, counters } = ledger();
    drops.rejectProfiles(4);
    assert.equal(counters.get('profiles_rejected', { exporter: 'prod' }), 4);
    assert.deepEqual(drops.droppedByReason(), {});
  });
});
