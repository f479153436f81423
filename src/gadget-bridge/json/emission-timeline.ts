/**
 * Collection windows for IG emissions, whose rows carry no timestamp (UNIX ns, [start, end)).
 *
 * - Live input (stdin, a child process, a followed file): the window ends when the emission
 *   arrives. It starts where the stream's previous window ended when the gap is at most two fetch
 *   intervals (so consecutive fetches tile the timeline), otherwise one interval before the end.
 *   The first window starts no earlier than the source did. Interval 0 (one flush when the gadget
 *   stops) starts at the source's start.
 * - Stamped emissions (the `logs` envelope's `timestamp`): the same rules with the timestamp as
 *   the end; the first window is one interval long.
 * - Replay (a plain file): the emissions, counted beforehand, are laid out back to back, one
 *   fetch interval each, the last one ending at `now()`. So a replayed capture gets a plausible
 *   recent timeline.
 */

/** Window length for a replay (or a first stamped window) when the fetch interval is 0. */
export const ZERO_INTERVAL_FALLBACK_NANO = 1_000_000_000n;

export interface CollectionWindow {
  readonly startNano: bigint;
  readonly endNano: bigint;
}

export interface EmissionTimelineOptions {
  readonly mode: 'live' | 'replay';
  /** UNIX ns clock. */
  readonly now: () => bigint;
  /** When the source started reading (UNIX ns). */
  readonly sourceStartNano: bigint;
}

export interface EmissionTimeline {
  /** Window of an emission without a timestamp (arrays): arrival time, or the next replay slot. */
  arrival(stream: string, intervalNano: bigint): CollectionWindow;
  /** Window of an emission that carries its own end time (logs envelopes). */
  stamped(stream: string, endNano: bigint, intervalNano: bigint): CollectionWindow;
  /** Replay: the number of array emissions to lay out; the timeline ends at `now()` (read here). */
  startReplay(count: number): void;
  /** Replay: a slot whose emission was malformed; the timeline moves on without it. */
  skipSlot(): void;
}

export function createEmissionTimeline(options: EmissionTimelineOptions): EmissionTimeline {
  const { mode, now, sourceStartNano } = options;
  const previousEnd = new Map<string, bigint>();
  let replayCount = 0;
  let replayEnd = 0n;
  let replayInterval: bigint | undefined;
  let slot = 0;

  const windowEnding = (
    stream: string,
    end: bigint,
    interval: bigint,
    first: 'source' | 'interval',
  ): CollectionWindow => {
    const prev = previousEnd.get(stream);
    let start: bigint;
    if (interval <= 0n) {
      start = prev ?? (sourceStartNano < end ? sourceStartNano : end - ZERO_INTERVAL_FALLBACK_NANO);
    } else if (prev === undefined) {
      start = end - interval;
      if (first === 'source' && sourceStartNano > start) start = sourceStartNano;
    } else {
      start = end > prev && end - prev <= 2n * interval ? prev : end - interval;
    }
    if (start >= end) start = end - 1n; // never an empty window
    if (prev === undefined || end > prev) previousEnd.set(stream, end);
    return { startNano: start, endNano: end };
  };

  return {
    arrival(stream, intervalNano) {
      if (mode === 'replay') {
        replayInterval ??= intervalNano > 0n ? intervalNano : ZERO_INTERVAL_FALLBACK_NANO;
        const end = replayEnd - BigInt(replayCount - 1 - slot) * replayInterval;
        slot++;
        return { startNano: end - replayInterval, endNano: end };
      }
      let end = now();
      const prev = previousEnd.get(stream);
      // Arrival times are strictly increasing per stream, even when the clock is coarse.
      if (prev !== undefined && end <= prev) end = prev + 1n;
      return windowEnding(stream, end, intervalNano, 'source');
    },
    stamped(stream, endNano, intervalNano) {
      return windowEnding(`stamped\u0000${stream}`, endNano, intervalNano, 'interval');
    },
    startReplay(count) {
      replayCount = count;
      replayEnd = now();
      slot = 0;
    },
    skipSlot() {
      if (mode === 'replay') slot++;
    },
  };
}
