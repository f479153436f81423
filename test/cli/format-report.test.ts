import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatReport } from '../../src/cli/format-report.js';
import type { DeliveryReport } from '../../src/exporter/delivery/exporter.js';
import { Counters } from '../../src/observability/counters.js';

const counts = (requests: number, profiles: number, samples: number) => ({ requests, profiles, samples });

describe('formatReport (the end-of-run summary)', () => {
  it('names every loss: malformed input, dropped rows, failed checkpoint writes, drops by reason, pending on disk; and the queue high-water mark', () => {
    const counters = new Counters();
    counters.add('rows_read', 120);
    counters.add('json_values_read', 4);
    counters.add('json_values_malformed', 1);
    counters.add('rows_dropped', 7, { reason: 'no_profile_mapping' });
    counters.add('checkpoint_write_failures', 2);
    const report: DeliveryReport = {
      delivered: counts(3, 30, 300),
      rejectedByBackend: 2,
      dropped: { queue_full: counts(1, 10, 100) },
      pendingOnDisk: { requests: 4, bytes: 4096 },
      pendingInMemoryDropped: 0,
      queuePeak: { requests: 6, bytes: 6144 },
    };
    const text = formatReport(counters, new Map([['collector', report]]));
    assert.match(text, /^input: 120 rows in 4 emissions, 1 malformed value\(s\) skipped$/m);
    assert.match(text, /rows dropped \(no_profile_mapping\): 7/);
    assert.match(text, /checkpoint: 2 write\(s\) failed/);
    assert.match(
      text,
      /exporter collector: delivered 3 request\(s\), 30 profile\(s\), 300 sample\(s\); backend rejected 2/,
    );
    assert.match(text, /dropped \(queue_full\): 1 request\(s\), 10 profile\(s\), 100 sample\(s\)/);
    assert.match(text, /pending in the persistent queue: 4 request\(s\), 4096 bytes/);
    assert.match(text, /queue high-water mark: 6 request\(s\), 6144 bytes \(waiting and in flight\)/);
  });

  it('leaves out the high-water mark when batches never had to wait', () => {
    const report: DeliveryReport = {
      delivered: counts(2, 2, 20),
      rejectedByBackend: 0,
      dropped: {},
      pendingOnDisk: { requests: 0, bytes: 0 },
      pendingInMemoryDropped: 0,
      queuePeak: { requests: 1, bytes: 512 },
    };
    const text = formatReport(new Counters(), new Map([['collector', report]]));
    assert.doesNotMatch(text, /high-water/);
  });

  it('says nothing about losses that did not happen', () => {
    const counters = new Counters();
    counters.add('rows_read', 5);
    counters.add('json_values_read', 1);
    const text = formatReport(counters, new Map());
    assert.equal(text, 'input: 5 rows in 1 emissions');
  });
});
