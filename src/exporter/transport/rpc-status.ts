import { retryInfoType, rpcStatusType } from '../../profiles/encoding/proto-schema.js';

/** Any.type_url of google.rpc.RetryInfo, the throttling hint OTLP servers attach to errors. */
export const RETRY_INFO_TYPE_URL = 'type.googleapis.com/google.rpc.RetryInfo';

/** One `google.protobuf.Any` of `google.rpc.Status.details`, undecoded. */
export interface RpcStatusDetail {
  readonly typeUrl: string;
  readonly value: Uint8Array;
}

/** A decoded `google.rpc.Status`: the OTLP/HTTP error body and gRPC's `grpc-status-details-bin`. */
export interface RpcStatus {
  readonly code: number;
  readonly message: string;
  /** `google.rpc.RetryInfo.retry_delay` in milliseconds (rounded up), when a detail carries it. */
  readonly retryDelayMs?: number;
  readonly details: RpcStatusDetail[];
}

interface RawStatus {
  code?: number;
  message?: string;
  details?: { typeUrl?: string; value?: Uint8Array }[];
}

interface RawRetryInfo {
  retryDelay?: { seconds?: string; nanos?: number };
}

const StatusType = rpcStatusType();
const RetryInfoType = retryInfoType();

/**
 * Decodes `google.rpc.Status` bytes. Throws (protobufjs' error) when the bytes are not a valid Status;
 * a RetryInfo detail that does not decode is ignored (the status itself is still useful).
 */
export function decodeRpcStatus(bytes: Uint8Array): RpcStatus {
  const raw = StatusType.toObject(StatusType.decode(bytes), { longs: String }) as RawStatus;
  const details: RpcStatusDetail[] = (raw.details ?? []).map((d) => ({
    typeUrl: d.typeUrl ?? '',
    value: d.value ?? new Uint8Array(0),
  }));
  let retryDelayMs: number | undefined;
  for (const d of details) {
    if (d.typeUrl !== RETRY_INFO_TYPE_URL) continue;
    retryDelayMs = decodeRetryDelayMs(d.value);
    if (retryDelayMs !== undefined) break;
  }
  return {
    code: raw.code ?? 0,
    message: raw.message ?? '',
    ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
    details,
  };
}

/** Encodes a `google.rpc.Status`, with a RetryInfo detail when `retryDelayMs` is set. */
export function encodeRpcStatus(status: {
  code: number;
  message: string;
  retryDelayMs?: number;
}): Uint8Array {
  const details: { typeUrl: string; value: Uint8Array }[] = [];
  if (status.retryDelayMs !== undefined) {
    const ms = Math.max(0, Math.round(status.retryDelayMs));
    const retryInfo = RetryInfoType.fromObject({
      retryDelay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 },
    });
    details.push({ typeUrl: RETRY_INFO_TYPE_URL, value: RetryInfoType.encode(retryInfo).finish() });
  }
  const message = StatusType.fromObject({ code: status.code, message: status.message, details });
  return StatusType.encode(message).finish();
}

/** Duration → whole milliseconds, rounded up so the client waits *at least* the requested delay. */
function decodeRetryDelayMs(value: Uint8Array): number | undefined {
  try {
    const raw = RetryInfoType.toObject(RetryInfoType.decode(value), { longs: String }) as RawRetryInfo;
    if (!raw.retryDelay) return undefined;
    const seconds = Number(raw.retryDelay.seconds ?? '0');
    const nanos = raw.retryDelay.nanos ?? 0;
    const ms = Math.ceil(seconds * 1000 + nanos / 1_000_000);
    return Number.isFinite(ms) && ms > 0 ? ms : 0;
  } catch {
    return undefined;
  }
}
