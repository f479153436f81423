import { createHash } from 'node:crypto';

/**
 * Recognises the replay an attach stream starts with. When a client attaches to a headless
 * instance, IG sends the instance's ring buffer first, numbered from seq 1 again, then live
 * events. After a reconnect, the head of that replay is what we already delivered; seq numbers
 * cannot tell, so events are compared by content (datasource id + payload bytes).
 *
 * Model: the instance emitted …, e1 … ek (our last delivered events, remembered as history H),
 * then maybe more. Its ring buffer holds the newest events, so if the instance is the same one,
 * the replay R starts with a suffix of H and continues with events we have not seen. The overlap
 * is the longest m such that R[0..m) == H[n-m..n). A restarted instance (new ring buffer), or a
 * ring that wrapped past what we saw, gives no such overlap: everything is new. Identical
 * payloads (empty fetches `[]`) make the choice ambiguous; taking the longest overlap prefers
 * never duplicating over re-delivering an indistinguishable emission.
 *
 * Events are held, not delivered, while a longer overlap is still possible. That costs at most
 * one replay's worth of memory and, on a quiet stream, a delay until the next event or the end
 * of the stream (`flush()`).
 */

/** Events remembered for replay detection; must cover the instance's ring buffer. */
export const REPLAY_HISTORY_EVENTS = 16_384;

/** Content fingerprint of a data event. */
export function eventFingerprint(dataSourceId: number, payload: Uint8Array): string {
  return createHash('sha1').update(String(dataSourceId)).update('\0').update(payload).digest('base64');
}

export interface ReplayDecision<T> {
  /** Events to deliver now, in order. */
  readonly deliver: T[];
  /** Replayed events dropped as already delivered. */
  readonly duplicates: number;
  /**
   * Set when a replay was resolved: true when it held events and none of them overlapped what was
   * delivered (a stream that ended before its first event replayed nothing, so it is not a gap).
   */
  readonly noOverlap?: boolean;
}

interface Matching<T> {
  readonly history: readonly string[];
  readonly held: { fp: string; item: T }[];
  /** Start positions j in history still matching held[0..i) == history[j..j+i). */
  incomplete: number[];
  /** Smallest j whose whole history tail was matched. */
  completeMin?: number;
}

export class ReplayFilter<T> {
  private history: string[] = [];
  private matching: Matching<T> | undefined;

  constructor(private readonly capacity: number = REPLAY_HISTORY_EVENTS) {}

  /** Records an event that was delivered. */
  remember(fp: string): void {
    this.history.push(fp);
    // Trim in chunks so remember() stays amortised O(1).
    if (this.history.length > this.capacity * 2) this.history = this.history.slice(-this.capacity);
  }

  /** A new attach stream starts: its first events may replay delivered ones. */
  beginReplay(): void {
    const history = this.history.slice(-this.capacity);
    this.matching = history.length ? { history, held: [], incomplete: [] } : undefined;
  }

  get holding(): number {
    return this.matching?.held.length ?? 0;
  }

  /** Offers the next event of the stream. */
  offer(fp: string, item: T): ReplayDecision<T> {
    const m = this.matching;
    if (!m) return { deliver: [item], duplicates: 0 };
    const n = m.history.length;
    m.held.push({ fp, item });
    const i = m.held.length;
    if (i === 1) {
      for (let j = 0; j < n; j++) if (m.history[j] === fp) m.incomplete.push(j);
    } else {
      m.incomplete = m.incomplete.filter((j) => m.history[j + i - 1] === fp);
    }
    // Candidates whose history tail is now fully matched: [j, n) has length i.
    const still: number[] = [];
    for (const j of m.incomplete) {
      if (j + i === n) m.completeMin = m.completeMin === undefined ? j : Math.min(m.completeMin, j);
      else still.push(j);
    }
    m.incomplete = still;
    const best = m.completeMin;
    const longerPossible = best === undefined ? still.length > 0 : still.some((j) => j < best);
    if (longerPossible) return { deliver: [], duplicates: 0 };
    return this.decide(best === undefined ? 0 : n - best);
  }

  /** End of stream (or give up waiting): resolves a pending replay with what is known. */
  flush(): ReplayDecision<T> {
    const m = this.matching;
    if (!m) return { deliver: [], duplicates: 0 };
    // Held events still matching a longer candidate are all copies of delivered ones.
    const overlap =
      m.incomplete.length > 0
        ? m.held.length
        : m.completeMin !== undefined
          ? m.history.length - m.completeMin
          : 0;
    return this.decide(overlap);
  }

  private decide(overlap: number): ReplayDecision<T> {
    const m = this.matching!;
    this.matching = undefined;
    const deliver = m.held.slice(overlap).map((h) => h.item);
    return { deliver, duplicates: overlap, noOverlap: overlap === 0 && m.held.length > 0 };
  }
}
