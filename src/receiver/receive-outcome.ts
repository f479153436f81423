import type { IngestResult } from '../store/profile-store.js';

/**
 * What the receiver answers one export request, independent of the transport: both the OTLP/HTTP and
 * the OTLP/gRPC front map it to their status codes (see otlp-http-receiver.ts, otlp-grpc-receiver.ts),
 * the way a Collector does.
 */
export type ReceiveOutcome =
  /** Durable in the store: 200 / OK, with partial_success when some profiles were rejected. */
  | { readonly kind: 'stored'; readonly result: IngestResult }
  /** The request cannot be decoded or does not conform: 400 / INVALID_ARGUMENT, never retried. */
  | { readonly kind: 'invalid'; readonly message: string }
  /** Above --max-request-size (compressed or decompressed): 413 / RESOURCE_EXHAUSTED without RetryInfo. */
  | { readonly kind: 'too-large'; readonly message: string }
  /** The store cannot take it now (backlog full, shutting down, a failing disk): 503 / UNAVAILABLE + retry delay. */
  | { readonly kind: 'unavailable'; readonly message: string; readonly retryAfterMs: number };

/** The wire format of a request body (OTLP/gRPC is always protobuf). */
export type BodyFormat = 'protobuf' | 'json';
