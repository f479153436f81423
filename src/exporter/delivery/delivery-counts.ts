import type { DropCounts } from '../../observability/loss-ledger.js';

/** Requests, profiles and samples of what a lane delivered or dropped (the loss ledger's unit). */
export type DeliveryCounts = DropCounts;

export const NO_DELIVERIES: DeliveryCounts = { requests: 0, profiles: 0, samples: 0 };

/** One request holding `batch`'s profiles and samples. */
export function countsOf(batch: { readonly profiles: number; readonly samples: number }): DeliveryCounts {
  return { requests: 1, profiles: batch.profiles, samples: batch.samples };
}

export function plus(a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts {
  return {
    requests: a.requests + b.requests,
    profiles: a.profiles + b.profiles,
    samples: a.samples + b.samples,
  };
}
