import type { ExportBatch } from '../export-batch.js';

/**
 * The queue between an exporter's pipeline and its delivery workers, in memory or on disk. Both
 * are bounded by request count and bytes: when a new batch does not fit, the **oldest** waiting
 * batches are dropped (the newest data is the most useful for continuous profiling) and reported
 * through `onDrop`, so the exporter can count and log them.
 *
 * Lifecycle: `open()` → (`enqueue` | `take` → `complete`)* → `close()`. A taken batch is "in
 * flight": it no longer counts against the bounds and cannot be evicted; `complete()` forgets it
 * for good (a persistent queue deletes its file only then).
 */

/** What the queue knows of a batch without its bytes. */
export interface QueueEntry {
  /** ExportBatch.id (stable across restarts for persistent entries). */
  readonly id: string;
  /** Payload size: the encoded request, without any file header. */
  readonly bytes: number;
  readonly profiles: number;
  readonly samples: number;
  /** Clock reading (ms since the epoch with the system clock) when the batch was accepted. */
  readonly enqueuedAt: number;
  /** Persistent queue: the file holding the batch. */
  readonly file?: string;
}

export interface TakenBatch {
  readonly entry: QueueEntry;
  readonly batch: ExportBatch;
}

export interface QueueSize {
  readonly requests: number;
  readonly bytes: number;
}

export interface QueueLimits {
  /** Bound of waiting payload bytes (QueueConfig.maxBytes). */
  readonly maxBytes: number;
  /** Bound of waiting requests (QueueConfig.maxRequests). */
  readonly maxRequests: number;
}

/** Why a queue dropped a batch on its own. */
export type QueueDropReason = 'queue_full' | 'corrupt_file';

export interface QueueDrop {
  readonly reason: QueueDropReason;
  /** The batch id when known (a corrupt file may not tell). */
  readonly id?: string;
  readonly bytes: number;
  /** 0 when a corrupt file's header could not be read. */
  readonly profiles: number;
  readonly samples: number;
  /** corrupt_file: the file and what is wrong with it, and where it was moved. */
  readonly file?: string;
  readonly problem?: string;
  readonly movedTo?: string;
}

export interface QueueOptions {
  readonly limits: QueueLimits;
  /** Called synchronously for every batch the queue drops by itself. */
  readonly onDrop: (drop: QueueDrop) => void;
}

export interface ExportQueue {
  readonly kind: 'memory' | 'persistent';
  /** For logs: `memory` or the directory. */
  readonly description: string;
  /** Prepares the queue; a persistent queue replays its directory. Returns what was replayed. */
  open(): Promise<QueueSize>;
  /**
   * Stores a batch (durably, for a persistent queue) and evicts the oldest waiting batches if a
   * bound is exceeded, possibly this one. Rejects only when storing failed (disk error).
   */
  enqueue(batch: ExportBatch): Promise<void>;
  /** The oldest waiting batch, now in flight; `undefined` when none is waiting. */
  take(): Promise<TakenBatch | undefined>;
  /** Forgets an in-flight batch: delivered, or dropped and counted by the caller. */
  complete(entry: QueueEntry): Promise<void>;
  /** Waiting batches (not in flight). */
  pending(): QueueSize;
  /** Batches taken and not completed. */
  inFlight(): QueueSize;
  /**
   * Stops the queue and returns what it still holds (waiting, then in flight, oldest first):
   * lost with a memory queue, left on disk for the next start with a persistent one.
   */
  close(): Promise<readonly QueueEntry[]>;
}
