/**
 * The bucket width of a timeline: a "nice" step (1 s, 2 s, 5 s, 10 s, … 1 d) giving about
 * TARGET_POINTS points over the range, or the caller's step widened until the range fits MAX_POINTS.
 */

const SECOND_NS = 1_000_000_000n;
/** Points a timeline aims at when the caller gives no step: enough for a wide chart, cheap to send. */
const TARGET_POINTS = 300n;
/** Most points a timeline returns, whatever step is asked for (a 1 ms step over a day would be 86M). */
const MAX_POINTS = 10_000n;
const NICE_STEPS_S: readonly bigint[] = [
  1n,
  2n,
  5n,
  10n,
  15n,
  30n,
  60n,
  120n,
  300n,
  600n,
  900n,
  1800n,
  3600n,
  7200n,
  10800n,
  21600n,
  43200n,
  86400n,
];
const DAY_S = 86400n;

function ceilDiv(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

export function timelineStep(rangeNs: bigint, requestedNs?: bigint): bigint {
  const range = rangeNs > 0n ? rangeNs : 1n;
  if (requestedNs !== undefined && requestedNs > 0n) {
    const least = ceilDiv(range, MAX_POINTS);
    return requestedNs >= least ? requestedNs : least;
  }
  const wanted = ceilDiv(range, TARGET_POINTS);
  for (const s of NICE_STEPS_S) if (s * SECOND_NS >= wanted) return s * SECOND_NS;
  return ceilDiv(wanted, DAY_S * SECOND_NS) * DAY_S * SECOND_NS;
}
