import type { Counters } from './counters.js';

/**
 * The loss ledger: whatever stage loses data (input parsing, aggregation, request build, a split,
 * the queue, retries given up, a permanent refusal, the shutdown deadline) records it here, and the
 * end-of-run summary, `--report-json` and the exit status all read it back from here, so they cannot
 * disagree. Its storage is the counters (so /metrics shows the same numbers): a loss is a counter of
 * a name below, labelled `reason` (and `exporter` when one exporter lost it). A stage that counts a
 * loss under one of these names is in the ledger; a name of its own would not be.
 */

/** What a loss is counted in. */
export type LossUnit = 'rows' | 'values' | 'requests' | 'profiles' | 'samples' | 'gaps';

/** Reason of the profiles a backend refused in a partial-success answer (`profiles_rejected`). */
export const REJECTED_BY_BACKEND = 'rejected_by_backend';

/** The counters that record losses: their unit, and the reason when the counter has no label. */
const LOSS_COUNTERS: Readonly<Record<string, { readonly unit: LossUnit; readonly reason?: string }>> = {
  rows_dropped: { unit: 'rows' },
  json_values_malformed: { unit: 'values', reason: 'malformed_json' },
  requests_dropped: { unit: 'requests' },
  profiles_dropped: { unit: 'profiles' },
  samples_dropped: { unit: 'samples' },
  profiles_rejected: { unit: 'profiles', reason: REJECTED_BY_BACKEND },
  // A lost IG connection whose data did not come back (grpc-row-source.ts): its rows are unknown.
  grpc_input_gaps: { unit: 'gaps' },
};

/** Requests, profiles and samples of what one exporter delivered or dropped. */
export interface DropCounts {
  readonly requests: number;
  readonly profiles: number;
  readonly samples: number;
}

/** One line of the ledger: what was lost for one reason (by one exporter, if any). */
export interface Loss {
  readonly reason: string;
  readonly exporter?: string;
  readonly counts: Readonly<Partial<Record<LossUnit, number>>>;
}

/** Names of the counters the ledger reads. */
export const LOSS_COUNTER_NAMES: readonly string[] = Object.keys(LOSS_COUNTERS);

export class LossLedger {
  private readonly _counters: Counters;

  constructor(counters: Counters) {
    this._counters = counters;
  }

  /** Rows dropped before they became samples (malformed, unmapped, unrouted...). */
  dropRows(count: number, reason: string, exporter?: string): void {
    this._counters.add('rows_dropped', count, { reason, ...(exporter !== undefined ? { exporter } : {}) });
  }

  /** Requests, profiles or samples one exporter dropped (a request count of 0: cut out at build time). */
  dropDelivery(exporter: string, reason: string, counts: DropCounts): void {
    const labels = { exporter, reason };
    this._counters.add('requests_dropped', counts.requests, labels);
    this._counters.add('profiles_dropped', counts.profiles, labels);
    this._counters.add('samples_dropped', counts.samples, labels);
  }

  /** Profiles a backend refused in a partial-success answer (never retried). */
  rejectProfiles(exporter: string, profiles: number): void {
    this._counters.add('profiles_rejected', profiles, { exporter });
  }

  /** Every loss so far, one entry per (exporter, reason), in a stable order. */
  losses(): Loss[] {
    const byKey = new Map<
      string,
      { reason: string; exporter?: string; counts: Partial<Record<LossUnit, number>> }
    >();
    for (const sample of this._counters.snapshot()) {
      const kind = LOSS_COUNTERS[sample.name];
      if (!kind || sample.value === 0) continue;
      const reason = sample.labels.reason ?? kind.reason ?? 'unknown';
      const exporter = sample.labels.exporter;
      const key = `${exporter ?? ''}\u0000${reason}`;
      let loss = byKey.get(key);
      if (!loss) {
        loss = { reason, ...(exporter !== undefined ? { exporter } : {}), counts: {} };
        byKey.set(key, loss);
      }
      loss.counts[kind.unit] = (loss.counts[kind.unit] ?? 0) + sample.value;
    }
    return [...byKey.values()];
  }

  /** Whether anything at all was lost: the run then ends with exit status 3. */
  hasLosses(): boolean {
    return this.losses().length > 0;
  }

  /** What one exporter dropped, by reason (profiles the backend rejected are reported apart). */
  droppedBy(exporter: string): Record<string, DropCounts> {
    const out: Record<string, DropCounts> = {};
    for (const loss of this.losses()) {
      if (loss.exporter !== exporter || loss.reason === REJECTED_BY_BACKEND) continue;
      const { requests = 0, profiles = 0, samples = 0 } = loss.counts;
      if (requests || profiles || samples) out[loss.reason] = { requests, profiles, samples };
    }
    return out;
  }
}
