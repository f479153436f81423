import { decodeExportRequest } from '../profiles/encoding/decode-request.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { countRequest } from '../profiles/model/otlp-model.js';
import type { EncodedRequest } from '../profiles/request/request-splitter.js';
import type { ExportBatch } from './export-batch.js';

let sequence = 0;

/** Process-unique batch id: time-ordered, so persistent-queue files sort in arrival order. */
export function newBatchId(): string {
  sequence = (sequence + 1) % 1_000_000;
  return `${Date.now().toString(36).padStart(9, '0')}-${process.pid.toString(36)}-${sequence.toString(36).padStart(4, '0')}`;
}

/**
 * A batch for a request the pipeline just generated and encoded. The model is ~13x the size of
 * its bytes, so a queued batch holds it only weakly: a healthy exporter still finds it in memory,
 * while a backlog during an outage costs its encoded size and the model is decoded again on demand.
 */
export function batchFromEncoded(piece: EncodedRequest, id: string = newBatchId()): ExportBatch {
  const { bytes } = piece;
  const generated = new WeakRef(piece.request);
  let decoded: ExportProfilesServiceRequest | undefined;
  return {
    id,
    bytes,
    profiles: piece.profiles,
    samples: piece.samples,
    request: () => generated.deref() ?? (decoded ??= decodeExportRequest(bytes)),
  };
}

/** A batch known only by its bytes (persistent-queue replay, files); decoded once, on demand. */
export function batchFromBytes(
  bytes: Uint8Array,
  id: string,
  counts?: { profiles: number; samples: number },
): ExportBatch {
  let decoded: ExportProfilesServiceRequest | undefined;
  const request = (): ExportProfilesServiceRequest => (decoded ??= decodeExportRequest(bytes));
  const c = counts ?? countRequest(request());
  return { id, bytes, profiles: c.profiles, samples: c.samples, request };
}
