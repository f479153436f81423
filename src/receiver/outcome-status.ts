import type { ExportProfilesServiceResponse } from '../profiles/model/otlp-model.js';
import type { IngestResult } from '../store/profile-store.js';
import type { ReceiveOutcome } from './receive-outcome.js';

/** google.rpc.Code values the receiver answers with (the same numbers as gRPC status codes). */
export const RPC_CODE = { OK: 0, INVALID_ARGUMENT: 3, RESOURCE_EXHAUSTED: 8, UNAVAILABLE: 14 } as const;

/** One outcome's status on both transports, defined once so OTLP/HTTP and OTLP/gRPC cannot disagree. */
export interface OutcomeStatus {
  readonly httpStatus: number;
  readonly rpcCode: number;
  readonly message: string;
  /** Only for UNAVAILABLE: RESOURCE_EXHAUSTED without RetryInfo is permanent, as the OTLP spec wants for size. */
  readonly retryAfterMs?: number;
}

export function outcomeStatus(outcome: Exclude<ReceiveOutcome, { kind: 'stored' }>): OutcomeStatus {
  switch (outcome.kind) {
    case 'invalid':
      return { httpStatus: 400, rpcCode: RPC_CODE.INVALID_ARGUMENT, message: outcome.message };
    case 'too-large':
      return { httpStatus: 413, rpcCode: RPC_CODE.RESOURCE_EXHAUSTED, message: outcome.message };
    case 'unavailable':
      return {
        httpStatus: 503,
        rpcCode: RPC_CODE.UNAVAILABLE,
        message: outcome.message,
        retryAfterMs: outcome.retryAfterMs,
      };
  }
}

/** The success answer: partial_success with the count and reason when the store rejected profiles. */
export function successResponse(result: IngestResult): ExportProfilesServiceResponse {
  if (result.rejectedProfiles === 0) return {};
  return {
    partialSuccess: {
      rejectedProfiles: BigInt(result.rejectedProfiles),
      errorMessage: result.errorMessage ?? `${result.rejectedProfiles} profile(s) rejected`,
    },
  };
}
