import type { ExporterConfig } from '../config/exporter-config.js';
import type { RowBatch } from '../rows/row-batch.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { LossLedger } from '../observability/loss-ledger.js';
import { generateRequest } from '../profiles/request/request-generator.js';
import { splitRequest } from '../profiles/request/request-splitter.js';
import type { ResourceResolver } from '../profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../profiles/aggregation/sample-aggregator.js';
import { batchFromEncoded } from './create-export-batch.js';
import { isForwardBatch } from './forward-batch.js';
import type { ExportBatch } from './export-batch.js';
import type { ExporterDeps } from './exporter-deps.js';
import type { LongTimeout } from '../util/long-timeout.js';
import { setLongTimeout } from '../util/long-timeout.js';

/**
 * The run loop of one exporter: rows are aggregated in memory (no I/O) and flushed every
 * `batch.interval` ± jitter, or earlier once `batch.max_pending_samples` is reached or the pending
 * data would fill a `batch.max_request_size` request (which also bounds memory between flushes). A flush
 * generates one request, splits it under the size and sample limits and hands the pieces to the
 * exporter's queue, which never makes ingestion wait for the network.
 */

export interface BatchConsumer {
  enqueue(batch: ExportBatch): Promise<void>;
}

export interface ProfilesPipelineOptions extends ExporterDeps {
  readonly config: ExporterConfig;
  readonly resources: ResourceResolver;
  readonly consumer: BatchConsumer;
  /** For tests: deterministic jitter. */
  readonly random?: () => number;
  /** After every flush: `flushedThrough` may have moved. */
  readonly onFlushed?: () => void;
}

export interface FlushResult {
  readonly requests: number;
  readonly samples: number;
}

export class ProfilesPipeline {
  private readonly _config: ExporterConfig;
  private readonly _aggregator: SampleAggregator;
  private readonly _options: ProfilesPipelineOptions;
  private readonly _labels: Readonly<Record<string, string>>;
  private readonly _random: () => number;
  private _timer: LongTimeout | undefined;
  private _flushing: Promise<FlushResult> = Promise.resolve({ requests: 0, samples: 0 });
  private _stopped = false;
  /** An early flush is queued and has not drained the aggregator yet. */
  private _earlyFlushPending = false;
  private _added = 0;
  private _flushedThrough = 0;

  constructor(options: ProfilesPipelineOptions) {
    this._options = options;
    this._config = options.config;
    this._labels = { exporter: options.config.name };
    this._random = options.random ?? Math.random;
    this._aggregator = new SampleAggregator({
      resources: options.resources,
      counters: options.counters,
      exporter: options.config.name,
    });
  }

  get name(): string {
    return this._config.name;
  }

  /** How many row batches have been added. */
  get added(): number {
    return this._added;
  }

  /** The first this many batches added are in the exporter's queue (or were counted as dropped). */
  get flushedThrough(): number {
    return this._flushedThrough;
  }

  /** Starts the periodic flush. */
  start(): void {
    this._schedule();
  }

  add(batch: RowBatch): void {
    if (isForwardBatch(batch)) {
      const { forward } = batch;
      // In line with the flushes (stop() waits for it); it holds no rows, so flushedThrough is not its business.
      this._flushing = this._flushing.then(async () => {
        await this._enqueueSplit(forward);
        return { requests: 0, samples: 0 };
      });
      return;
    }
    this._added++;
    this._aggregator.add(batch);
    this._options.counters.add('rows_aggregated', batch.rows.length, this._labels);
    const { maxPendingSamples, maxRequestBytes } = this._config.batch;
    const samplesReached = maxPendingSamples > 0 && this._aggregator.pendingSamples >= maxPendingSamples;
    const bytesReached = this._aggregator.pendingBytesEstimate >= maxRequestBytes;
    if ((samplesReached || bytesReached) && !this._earlyFlushPending) {
      this._earlyFlushPending = true;
      this._options.counters.add('early_flushes', 1, this._labels);
      void this.flush();
    }
  }

  /** Flushes what is pending; concurrent calls are serialised. */
  flush(): Promise<FlushResult> {
    this._flushing = this._flushing.then(async () => {
      const through = this._added; // drained synchronously at the start of _flushNow
      const result = await this._flushNow();
      this._flushedThrough = through;
      this._options.onFlushed?.();
      return result;
    });
    return this._flushing;
  }

  /** Stops the timer and flushes one last time. */
  async stop(): Promise<FlushResult> {
    this._stopped = true;
    this._timer?.clear();
    return this.flush();
  }

  private _schedule(): void {
    if (this._stopped) return;
    const { intervalMs, jitter } = this._config.batch;
    const delay = Math.max(1, Math.round(intervalMs * (1 + jitter * (2 * this._random() - 1))));
    this._timer = setLongTimeout(() => {
      void this.flush().finally(() => this._schedule());
    }, delay);
    // A stopped pipeline's timer must not hold the process; while the run goes on, the session's
    // keep-alive does (cli/process-keep-alive.ts), also when the input is away (IG reconnecting).
    this._timer.unref();
  }

  private async _flushNow(): Promise<FlushResult> {
    this._earlyFlushPending = false;
    if (this._aggregator.pendingRows === 0) return { requests: 0, samples: 0 };
    const { logger } = this._options;
    const snapshot = this._aggregator.drain();
    const request = generateRequest(snapshot, {
      resources: this._options.resources,
      sampleMerge: this._config.samples.merge,
    });
    if (!request) return { requests: 0, samples: 0 };
    const { requests, samples } = await this._enqueueSplit(request);
    logger.debug('flushed', {
      exporter: this._config.name,
      rows: snapshot.rows,
      requests,
      samples,
    });
    return { requests, samples };
  }

  /** Splits a request under the size and sample limits and queues the pieces (a lone oversize stack is counted). */
  private async _enqueueSplit(request: ExportProfilesServiceRequest): Promise<FlushResult> {
    const { counters, logger } = this._options;
    const { pieces, droppedSamples, droppedProfiles } = splitRequest(request, {
      maxRequestBytes: this._config.batch.maxRequestBytes,
      maxSamplesPerProfile: this._config.batch.maxSamplesPerProfile,
    });
    if (droppedSamples > 0 || droppedProfiles > 0) {
      // No request was sent or dropped: the samples were cut out while building one.
      new LossLedger(counters).dropDelivery(this._config.name, 'too_large', {
        requests: 0,
        profiles: droppedProfiles,
        samples: droppedSamples,
      });
      logger.error(
        `a single stack sample does not fit in batch.max_request_size=${this._config.batch.maxRequestBytes} bytes: ` +
          `dropped ${droppedSamples} sample(s); raise operator.otel-profiles.exporters.${this._config.name}.batch.max_request_size`,
      );
    }
    let samples = 0;
    for (const piece of pieces) {
      samples += piece.samples;
      counters.add('requests_generated', 1, this._labels);
      counters.add('samples_generated', piece.samples, this._labels);
      counters.add('request_bytes_generated', piece.bytes.length, this._labels);
      await this._options.consumer.enqueue(batchFromEncoded(piece));
    }
    return { requests: pieces.length, samples };
  }
}
