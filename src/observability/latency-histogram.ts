/**
 * Cumulative histograms of durations in seconds by label set, kept where the durations are
 * measured and read by /metrics at scrape time (as the counters are).
 */

/**
 * Upper bounds in seconds: an OTLP export is tens of milliseconds on a LAN and up to the request
 * timeout (default 10 s) against a slow backend.
 */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  /** Observations ≤ each bound of `buckets` (not cumulative). */
  readonly counts: readonly number[];
  readonly sum: number;
  readonly count: number;
}

export class LatencyHistogram {
  readonly buckets: readonly number[];
  private readonly _series = new Map<
    string,
    { labels: Readonly<Record<string, string>>; counts: number[]; sum: number; count: number }
  >();

  constructor(buckets: readonly number[] = LATENCY_BUCKETS_SECONDS) {
    this.buckets = buckets;
  }

  observe(seconds: number, labels: Readonly<Record<string, string>>): void {
    const key = JSON.stringify(Object.entries(labels).sort());
    let series = this._series.get(key);
    if (!series) {
      series = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this._series.set(key, series);
    }
    const index = this.buckets.findIndex((bound) => seconds <= bound);
    if (index !== -1) series.counts[index] = (series.counts[index] ?? 0) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  series(): HistogramSeries[] {
    return [...this._series.values()].map((s) => ({ ...s, counts: [...s.counts] }));
  }
}
