/**
 * Collection windows of IG emissions, whose rows carry no timestamp (UNIX ns, [start, end)): the
 * one rule for every source of row batches (JSON input, the IG gRPC API, the relay).
 *
 * - Arrival (a live stream: stdin, a child process, a followed file, a gRPC stream, a relayed
 *   Export): the window ends when the emission arrives; arrival times are strictly increasing per
 *   stream, even on a coarse clock.
 * - The gap rule: a window starts where the stream's previous window ended when the gap is at most
 *   two fetch intervals, so consecutive fetches tile the timeline; after a longer gap (an outage, a
 *   reconnect, a gadget that was quiet) it is one interval long, so a window never claims time in
 *   which nothing was collected for this source.
 * - The first window of a stream: one interval long, but no earlier than the source started when
 *   the producer started with it (`firstArrival: 'source-start'`: a pipe, a gadget run); a whole
 *   interval when the producer ran before (`'one-interval'`: an attached headless instance).
 * - Interval 0 (one flush when the gadget stops): the window starts at the previous end, or else at
 *   the source's start (a second before the end when that is not earlier).
 * - Stamped emissions (the `logs` envelope's `timestamp`): the same rules with the timestamp as the
 *   end; the first window is one interval long (the log may predate the source).
 * - Replay (a plain file): the emissions, counted beforehand, are laid out back to back, one fetch
 *   interval each, the last one ending at `now()`. So a replayed capture gets a plausible recent
 *   timeline.
 * - A window is never empty: at least 1 ns.
 */

/** Window length for a replay (or a first stamped window) when the fetch interval is 0. */
export const ZERO_INTERVAL_FALLBACK_NANO = 1_000_000_000n;
/** Gaps up to this many fetch intervals still tile: a late fetch (a busy node, GC) is not an outage. */
export const TILING_GAP_INTERVALS = 2n;

export interface CollectionWindow {
  readonly startNano: bigint;
  readonly endNano: bigint;
}

export interface CollectionTimelineOptions {
  readonly mode: 'live' | 'replay';
  /** UNIX ns clock. */
  readonly now: () => bigint;
  /** When the source started reading (UNIX ns). */
  readonly sourceStartNano: bigint;
  /**
   * Where the first arrival window of a stream may start (default `source-start`): no earlier than
   * the source, whose producer started with it; or `one-interval` when the producer was already
   * running (its first fetch covers a whole interval before we joined).
   */
  readonly firstArrival?: 'source-start' | 'one-interval';
}

export interface CollectionTimeline {
  /** Window of an emission without a timestamp: arrival time, or the next replay slot. */
  arrival(stream: string, intervalNano: bigint): CollectionWindow;
  /** Window of an emission that carries its own end time (logs envelopes). */
  stamped(stream: string, endNano: bigint, intervalNano: bigint): CollectionWindow;
  /** Replay: the number of array emissions to lay out; the timeline ends at `now()` (read here). */
  startReplay(count: number): void;
  /** Replay: a slot whose emission was malformed; the timeline moves on without it. */
  skipSlot(): void;
}

export function createCollectionTimeline(options: CollectionTimelineOptions): CollectionTimeline {
  const { mode, now, sourceStartNano } = options;
  const firstArrival = options.firstArrival === 'one-interval' ? 'interval' : 'source';
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
      start = end > prev && end - prev <= TILING_GAP_INTERVALS * interval ? prev : end - interval;
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
      return windowEnding(stream, end, intervalNano, firstArrival);
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
