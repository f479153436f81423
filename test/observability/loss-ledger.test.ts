import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counters } from '../../src/observability/counters.js';
import { LossLedger } from '../../src/observability/loss-ledger.js';

describe('LossLedger', () => {
  it('groups every loss counter by exporter and reason, in its unit', () => {
    const counters = new Counters();
    const ledger = new LossLedger(counters);
    ledger.dropRows(4, 'no_exporter_selected');
    counters.add('rows_dropped', 2, { exporter: 'a', reason: 'invalid_value' }); // a stage counting directly
    counters.add('json_values_malformed', 3);
    ledger.dropDelivery('a', 'queue_full', { requests: 2, profiles: 3, samples: 40 });
    ledger.dropDelivery('a', 'queue_full', { requests: 1, profiles: 1, samples: 5 });
    ledger.dropDelivery('a', 'too_large', { requests: 0, profiles: 1, samples: 7 });
    ledger.rejectProfiles('b', 2);
    counters.add('samples_sent', 100, { exporter: 'a' }); // not a loss
    const byKey = new Map(ledger.losses().map((l) => [`${l.exporter ?? '-'}/${l.reason}`, l.counts]));
    assert.deepEqual(Object.fromEntries(byKey), {
      '-/no_exporter_selected': { rows: 4 },
      'a/invalid_value': { rows: 2 },
      '-/malformed_json': { values: 3 },
      'a/queue_full': { requests: 3, profiles: 4, samples: 45 },
      'a/too_large': { profiles: 1, samples: 7 },
      'b/rejected_by_backend': { profiles: 2 },
    });
    assert.equal(ledger.hasLosses(), true);
  });

  it("an exporter's drops by reason: what it dropped and what was cut out at build time, not what the backend rejected", () => {
    const counters = new Counters();
    const ledger = new LossLedger(counters);
    ledger.dropDelivery('a', 'too_large', { requests: 0, profiles: 1, samples: 7 });
    ledger.dropDelivery('a', 'permanent_error', { requests: 1, profiles: 2, samples: 3 });
    ledger.dropDelivery('b', 'permanent_error', { requests: 9, profiles: 9, samples: 9 });
    ledger.rejectProfiles('a', 5);
    assert.deepEqual(ledger.droppedBy('a'), {
      too_large: { requests: 0, profiles: 1, samples: 7 },
      permanent_error: { requests: 1, profiles: 2, samples: 3 },
    });
    assert.deepEqual(ledger.droppedBy('c'), {});
  });

  it('nothing counted, nothing lost', () => {
    const counters = new Counters();
    counters.add('rows_read', 10);
    const ledger = new LossLedger(counters);
    ledger.dropDelivery('a', 'queue_full', { requests: 0, profiles: 0, samples: 0 });
    assert.deepEqual(ledger.losses(), []);
    assert.equal(ledger.hasLosses(), false);
  });
});
