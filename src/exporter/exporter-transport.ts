import type { ExportBatch } from './export-batch.js';
import type { ExportResponse } from './export-response.js';

/**
 * Sends one batch somewhere: an OTLP/gRPC or OTLP/HTTP endpoint, a file, a pprof directory, stderr.
 * Implementations never throw for delivery problems; they classify them into an ExportResponse.
 */
export interface ExporterTransport {
  /** Short description for logs, without secrets: `otlp-grpc 127.0.0.1:4317`. */
  readonly description: string;
  send(batch: ExportBatch, timeoutMs: number): Promise<ExportResponse>;
  shutdown(): Promise<void>;
}
