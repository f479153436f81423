import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';

/**
 * One request on its way to an exporter: the protobuf bytes (what queues store and OTLP sends)
 * plus the model when it is still in memory. A batch replayed from the persistent queue has only
 * bytes; `request()` decodes them on demand for sinks that need the model (JSON, pprof).
 */
export interface ExportBatch {
  /** Unique within the process; stable across restarts for persistent-queue entries. */
  readonly id: string;
  /** Encoded ExportProfilesServiceRequest (uncompressed protobuf). */
  readonly bytes: Uint8Array;
  readonly profiles: number;
  readonly samples: number;
  /** The decoded model (cached). */
  request(): ExportProfilesServiceRequest;
}
