import type { ExportBatch } from '../export-batch.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { ExportQueue, QueueEntry, QueueOptions, QueueSize, TakenBatch } from './export-queue.js';

/**
 * The default queue: batches in process memory, bounded by count and bytes, oldest dropped first.
 * Whatever is still in it when the process stops is lost (and counted by the exporter).
 */

/** Compact the backing array once this many slots at its head are dead. */
const COMPACT_AFTER = 1024;

export interface MemoryQueueOptions extends QueueOptions {
  readonly clock?: Clock;
}

interface Slot {
  readonly entry: QueueEntry;
  readonly batch: ExportBatch;
}

class MemoryQueue implements ExportQueue {
  readonly kind = 'memory' as const;
  readonly description = 'memory';
  /**
   * Waiting slots live in [_head, _slots.length); shifting an index is O(1). Shifted slots are
   * cleared at once so a delivered batch is garbage as soon as the exporter lets go of it.
   */
  private _slots: (Slot | undefined)[] = [];
  private _head = 0;
  private _bytes = 0;
  private readonly _inFlight = new Map<QueueEntry, Slot>();
  private _inFlightBytes = 0;
  private readonly _options: MemoryQueueOptions;
  private readonly _clock: Clock;

  constructor(options: MemoryQueueOptions) {
    this._options = options;
    this._clock = options.clock ?? systemClock;
  }

  open(): Promise<QueueSize> {
    return Promise.resolve({ requests: 0, bytes: 0 });
  }

  enqueue(batch: ExportBatch): Promise<void> {
    const entry: QueueEntry = {
      id: batch.id,
      bytes: batch.bytes.length,
      profiles: batch.profiles,
      samples: batch.samples,
      enqueuedAt: this._clock.now(),
    };
    this._slots.push({ entry, batch });
    this._bytes += entry.bytes;
    this._enforceLimits();
    return Promise.resolve();
  }

  take(): Promise<TakenBatch | undefined> {
    const slot = this._shift();
    if (!slot) return Promise.resolve(undefined);
    this._inFlight.set(slot.entry, slot);
    this._inFlightBytes += slot.entry.bytes;
    return Promise.resolve(slot);
  }

  complete(entry: QueueEntry): Promise<void> {
    if (this._inFlight.delete(entry)) this._inFlightBytes -= entry.bytes;
    return Promise.resolve();
  }

  pending(): QueueSize {
    return { requests: this._slots.length - this._head, bytes: this._bytes };
  }

  inFlight(): QueueSize {
    return { requests: this._inFlight.size, bytes: this._inFlightBytes };
  }

  close(): Promise<readonly QueueEntry[]> {
    const left: QueueEntry[] = [];
    for (let slot = this._shift(); slot; slot = this._shift()) left.push(slot.entry);
    for (const slot of this._inFlight.values()) left.push(slot.entry);
    this._inFlight.clear();
    this._inFlightBytes = 0;
    return Promise.resolve(left);
  }

  private _shift(): Slot | undefined {
    if (this._head >= this._slots.length) return undefined;
    const slot = this._slots[this._head] as Slot;
    this._slots[this._head] = undefined;
    this._head += 1;
    this._bytes -= slot.entry.bytes;
    if (this._head >= COMPACT_AFTER && this._head * 2 >= this._slots.length) {
      this._slots = this._slots.slice(this._head);
      this._head = 0;
    }
    return slot;
  }

  private _enforceLimits(): void {
    const { maxBytes, maxRequests } = this._options.limits;
    while (this._slots.length - this._head > maxRequests || this._bytes > maxBytes) {
      const slot = this._shift();
      if (!slot) break;
      const { entry } = slot;
      this._options.onDrop({
        reason: 'queue_full',
        id: entry.id,
        bytes: entry.bytes,
        profiles: entry.profiles,
        samples: entry.samples,
      });
    }
  }
}

/** A bounded in-memory queue. */
export function createMemoryQueue(options: MemoryQueueOptions): ExportQueue {
  return new MemoryQueue(options);
}
