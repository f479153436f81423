/**
 * Acknowledges row batches in arrival order once every pipeline they were added to has flushed
 * them into its exporter's queue. Pipelines flush on their own (jittered) timers, so a batch is
 * done only when the slowest of its pipelines has flushed past it.
 */

/** What the tracker needs of a pipeline: how many of its added batches are flushed. */
export interface FlushWatermark {
  readonly flushedThrough: number;
}

/** A batch waits for each of its pipelines to have flushed its first `count` batches. */
export interface PipelineWait {
  readonly pipeline: FlushWatermark;
  readonly count: number;
}

interface PendingAck {
  readonly acknowledge: () => void;
  readonly waits: readonly PipelineWait[];
}

export class AcknowledgementTracker {
  private _pending: PendingAck[] = [];
  private _head = 0;

  /** Batches waiting for a flush. */
  get pending(): number {
    return this._pending.length - this._head;
  }

  /** Tracks a batch just added to the pipelines in `waits` (none: it was dropped at routing). */
  track(acknowledge: () => void, waits: readonly PipelineWait[]): void {
    this._pending.push({ acknowledge, waits });
    this.update();
  }

  /**
   * A pipeline flushed: acknowledges the batches now done, in order. Acknowledging a batch stands
   * for all the earlier ones, so only the last one done is called.
   */
  update(): void {
    let last: (() => void) | undefined;
    while (this._head < this._pending.length) {
      const next = this._pending[this._head] as PendingAck;
      if (!next.waits.every((w) => w.pipeline.flushedThrough >= w.count)) break;
      last = next.acknowledge;
      this._head++;
    }
    if (this._head > 1024 && this._head * 2 > this._pending.length) {
      this._pending = this._pending.slice(this._head);
      this._head = 0;
    }
    last?.();
  }
}
