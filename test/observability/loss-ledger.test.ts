import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Counters } from '../../src/observability/counters.js';
import { LOSS_COUNTER_NAMES, LossLedger } from '../../src/observability/loss-ledger.js';

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

/**
 * Counters whose name sounds like a loss but that are not one, and why. A new counter of a lost
 * thing must join the ledger (count it under a ledger name) or be listed here with its reason.
 */
const NOT_LOSSES: Readonly<Record<string, string>> = {
  grpc_fetches_lost: 'IG lost the fetches upstream, before they reached us: reported on the input line',
  grpc_replayed_events_skipped: 'duplicates of events already read after a reconnect',
  links_invalid: 'the sample is kept; only its malformed trace link is left out',
  checkpoint_write_failures: 'nothing is lost: a restart reads again from the last checkpoint written',
  k8s_pod_sources_failed: 'a gadget pod source failing (logged, restarted): no row of ours is dropped',
  k8s_pods_lost: 'a pod going away, not data',
  k8s_portforward_errors: 'a connection error, retried',
};

describe('the loss ledger knows every loss counter', () => {
  it('each counter in src whose name says something was lost is in the ledger or explained', () => {
    const root = new URL('../../src/', import.meta.url).pathname;
    const names = new Set<string>();
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (entry.name.endsWith('.ts'))
          for (const m of readFileSync(path, 'utf8').matchAll(/\.add\(\s*'([a-z0-9_]+)'/g))
            names.add(m[1] as string);
      }
    };
    walk(root);
    assert.ok(names.has('rows_read') && names.has('samples_dropped'), 'the scan finds the counters');
    const lossy = [...names].filter((n) =>
      /drop|lost|malformed|reject|skip|invalid|fail|discard|oversized/.test(n),
    );
    const unexplained = lossy.filter((n) => !LOSS_COUNTER_NAMES.includes(n) && NOT_LOSSES[n] === undefined);
    assert.deepEqual(
      unexplained,
      [],
      'count these under a ledger name (LossLedger) or explain them in NOT_LOSSES',
    );
  });
});
