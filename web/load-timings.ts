/** Timings of the page's last flame-graph load, ms from its request (the page benchmark reads them). */
export interface LoadTimings {
  readonly nodes: number;
  readonly fetchedMs: number;
  readonly modelMs: number;
  readonly drawnMs: number;
  readonly paintedMs: number;
  readonly drawn: number;
}
