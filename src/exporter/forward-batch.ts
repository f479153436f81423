import type { RowBatch } from '../rows/row-batch.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';

/**
 * A request passed on as it came (relay, from a sender that is not IG: already attributed, with real
 * mappings) instead of rows. It travels the session like any batch (routed by its spec's datasource)
 * and each selected pipeline splits it under its limits and queues it unchanged.
 */
export interface ForwardBatch extends RowBatch {
  readonly rows: readonly [];
  readonly forward: ExportProfilesServiceRequest;
}

export function isForwardBatch(batch: RowBatch): batch is ForwardBatch {
  return (batch as Partial<ForwardBatch>).forward !== undefined;
}
