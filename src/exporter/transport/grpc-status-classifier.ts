import type { ExportResponse } from '../export-response.js';
import { decodeRpcStatus } from './rpc-status.js';
import { tidyGrpcDetails } from '../../util/grpc-details.js';

/** gRPC status codes by number (the canonical names, as OTLP's retry table uses them). */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

const RESOURCE_EXHAUSTED = 8;
const UNAVAILABLE = 14;

/** OTLP spec: retryable gRPC codes (RESOURCE_EXHAUSTED is handled apart: only with RetryInfo). */
const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  1, // CANCELLED
  4, // DEADLINE_EXCEEDED
  10, // ABORTED
  11, // OUT_OF_RANGE
  14, // UNAVAILABLE
  15, // DATA_LOSS
]);

/**
 * Message-size errors of grpc-js and grpc-go, raised by the client (send limit) or by the server
 * (receive limit), and an HTTP 413 from a proxy in front of the gRPC server.
 */
const TOO_LARGE_PATTERN =
  /(received|sent) message (larger than max|that decompresses to a size larger than)|attempted to send message with a size larger than|message too large|request entity too large|HTTP status code 413/i;

/** `… larger than max (N vs M)` / `… larger than M`: captures the limit M. */
const SIZE_LIMIT_PATTERN = /(?:\(\d+ vs\.? (\d+)\)|decompresses to a size larger than (\d+))/i;

const TLS_PATTERN =
  /certificate|\bssl\b|\btls\b|handshake|self[- ]signed|CERT_|altname|unable to verify|wrong version number/i;

/** A failed gRPC call, as grpc-js reports it (`ServiceError`: code, details, trailers). */
export interface GrpcCallFailure {
  readonly code: number;
  readonly details: string;
  /** Raw `grpc-status-details-bin` trailer: a serialized google.rpc.Status (may carry RetryInfo). */
  readonly statusDetails?: Uint8Array;
}

export interface GrpcClassifyOptions {
  /** What was called, for the error message: `otlp-grpc 127.0.0.1:4317`. */
  readonly target: string;
  /**
   * The client's own receive limit. A "larger than max (… vs <this>)" error then means the *response*
   * was over the cap, not a too-large request: the server sent a response message, so it accepted
   * the data (success, with a warning that the response was not read).
   */
  readonly responseLimitBytes?: number;
}

/**
 * Maps a failed OTLP/gRPC Export call to an ExportResponse following the OTLP retry table:
 * CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE, DATA_LOSS are retryable;
 * RESOURCE_EXHAUSTED only when the status carries google.rpc.RetryInfo (its delay becomes
 * `retryAfterMs`); every other code is permanent. Message-size errors about the request are
 * `failure` with `tooLarge`; our own response cap being exceeded is a `success` with a message.
 */
export function classifyGrpcError(failure: GrpcCallFailure, options: GrpcClassifyOptions): ExportResponse {
  const { code } = failure;
  const details = tidyGrpcDetails(failure.details);
  const name = GRPC_STATUS_NAMES[code] ?? 'UNRECOGNISED_STATUS';
  const retryDelayMs = retryDelayOf(failure.statusDetails);
  const describe = (hint?: string): Error =>
    new Error(`${options.target}: ${name} (${code}): ${details || 'no details'}${hint ? ` — ${hint}` : ''}`);

  if (TOO_LARGE_PATTERN.test(details)) {
    const limit = limitOf(details);
    if (options.responseLimitBytes !== undefined && limit === options.responseLimitBytes) {
      return {
        status: 'success',
        message:
          `${options.target}: the response message is larger than the ${options.responseLimitBytes}-byte cap and was not read; ` +
          'the server answered, so the data was accepted; any partial-success details are unknown',
      };
    }
    return {
      status: 'failure',
      tooLarge: true,
      error: describe('the request is larger than the message size limit; split it into smaller requests'),
    };
  }
  if (code === RESOURCE_EXHAUSTED) {
    if (retryDelayMs !== undefined) {
      return {
        status: 'retryable',
        error: describe('server is throttling (RetryInfo)'),
        retryAfterMs: retryDelayMs,
      };
    }
    return { status: 'failure', error: describe('no RetryInfo, so the server cannot recover: not retried') };
  }
  if (RETRYABLE_CODES.has(code)) {
    const hint = code === UNAVAILABLE ? unavailableHint(details) : undefined;
    return {
      status: 'retryable',
      error: describe(hint),
      ...(retryDelayMs !== undefined ? { retryAfterMs: retryDelayMs } : {}),
    };
  }
  return { status: 'failure', error: describe(permanentHint(code)) };
}

function retryDelayOf(statusDetails: Uint8Array | undefined): number | undefined {
  if (!statusDetails || statusDetails.length === 0) return undefined;
  try {
    return decodeRpcStatus(statusDetails).retryDelayMs;
  } catch {
    return undefined; // an undecodable trailer is no RetryInfo
  }
}

function limitOf(details: string): number | undefined {
  const m = SIZE_LIMIT_PATTERN.exec(details);
  const digits = m?.[1] ?? m?.[2];
  return digits === undefined ? undefined : Number(digits);
}

function unavailableHint(details: string): string | undefined {
  if (TLS_PATTERN.test(details)) {
    return 'TLS handshake failed: check tls.ca_file (OTEL_EXPORTER_OTLP_CERTIFICATE), tls.server_name, the client certificate, or whether the endpoint speaks TLS at all (insecure)';
  }
  if (/ECONNREFUSED|connection refused/i.test(details))
    return 'nothing listens there; is the collector running?';
  if (/ENOTFOUND|EAI_AGAIN|name resolution/i.test(details)) return 'the host name does not resolve';
  return undefined;
}

function permanentHint(code: number): string | undefined {
  switch (code) {
    case 3:
      return 'the backend rejected the request as invalid: not retried';
    case 7:
    case 16:
      return 'check the authentication headers (values are not shown): not retried';
    case 12:
      return 'the endpoint does not implement the OTLP profiles service (Collector >= v0.148.0 with profiles enabled, Pyroscope): not retried';
    default:
      return 'not retried';
  }
}
