import type { LatencyHistogram } from '../../observability/latency-histogram.js';
import type { Clock } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';

/**
 * Times every attempt as a decorator: its duration goes into the latency histogram of /metrics,
 * labelled `exporter` and `outcome` (the response status). An attempt still running when the lane is
 * abandoned (shutdown deadline) is not measured: its end says nothing about the backend.
 */

export interface MeasuredTransportOptions {
  readonly histogram: LatencyHistogram;
  readonly exporter: string;
  readonly clock?: Clock;
  readonly abandon?: AbortSignal;
}

class MeasuredTransport implements ExporterTransport {
  readonly description: string;
  private readonly _inner: ExporterTransport;
  private readonly _options: MeasuredTransportOptions;
  private readonly _clock: Clock;

  constructor(inner: ExporterTransport, options: MeasuredTransportOptions) {
    this._inner = inner;
    this.description = inner.description;
    this._options = options;
    this._clock = options.clock ?? systemClock;
  }

  async send(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> {
    const startedAt = this._clock.now();
    const response = await this._inner.send(batch, timeoutMs);
    if (!this._options.abandon?.aborted) {
      this._options.histogram.observe((this._clock.now() - startedAt) / 1000, {
        exporter: this._options.exporter,
        outcome: response.status,
      });
    }
    return response;
  }

  shutdown(): Promise<void> {
    return this._inner.shutdown();
  }
}

/** `transport` with each attempt's duration recorded in `options.histogram`. */
export function measureAttempts(
  transport: ExporterTransport,
  options: MeasuredTransportOptions,
): ExporterTransport {
  return new MeasuredTransport(transport, options);
}
