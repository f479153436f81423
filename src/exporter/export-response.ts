/**
 * Outcome of one send attempt. The retry decision lives with the transport that understands the
 * protocol (gRPC status, HTTP code); the retry loop only reads this union.
 */
export type ExportResponse =
  | {
      readonly status: 'success';
      /** OTLP partial_success: profiles the backend rejected (never retried, counted). */
      readonly rejectedProfiles?: number;
      /** partial_success.error_message (a warning when rejectedProfiles is 0). */
      readonly message?: string;
    }
  | {
      /** Permanent: the data is dropped and counted. */
      readonly status: 'failure';
      readonly error: Error;
      /**
       * HTTP 413 / a gRPC message-size error: the request is too large; cut it and resend the pieces
       * (split-on-too-large.ts). Any other RESOURCE_EXHAUSTED without RetryInfo is plainly permanent.
       */
      readonly tooLarge?: boolean;
    }
  | {
      readonly status: 'retryable';
      readonly error: Error;
      /** Server-requested delay (Retry-After, google.rpc.RetryInfo) in milliseconds. */
      readonly retryAfterMs?: number;
    };
