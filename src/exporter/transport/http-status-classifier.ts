import { STATUS_CODES } from 'node:http';
import type { ExportResponse } from '../export-response.js';
import { decodeRpcStatus } from './rpc-status.js';

/** Longest piece of a non-OTLP error body quoted in an error message. */
export const BODY_SNIPPET_MAX_CHARS = 200;

/** OTLP/HTTP: only these codes are retried (all other 4xx/5xx, 400 in particular, are permanent). */
const RETRYABLE_HTTP_CODES: ReadonlySet<number> = new Set([429, 502, 503, 504]);

/** Network error codes that are configuration or programming errors, not transient conditions. */
const PERMANENT_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ERR_INVALID_URL',
  'ERR_INVALID_ARG_TYPE',
  'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_INVALID_CHAR',
  'ERR_UNESCAPED_CHARACTERS',
  'ERR_INVALID_PROTOCOL',
]);

const TLS_CODE_PATTERN =
  /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME_MISMATCH|ALTNAME/;

/** A complete non-2xx HTTP response (body already capped and decompressed). */
export interface HttpErrorReply {
  readonly statusCode: number;
  /** The `Retry-After` header, if any. */
  readonly retryAfter?: string;
  readonly contentType?: string;
  readonly body: Uint8Array;
}

export interface HttpClassifyOptions {
  /** What was called, for the error message: `otlp-http https://collector:4318/v1development/profiles`. */
  readonly target: string;
  /** Clock for HTTP-date `Retry-After` values (defaults to Date.now()). */
  readonly nowMs?: number;
}

/**
 * Maps a non-2xx OTLP/HTTP response to an ExportResponse: 429/502/503/504 are retryable and honour
 * `Retry-After` (delay-seconds or HTTP-date; else a RetryInfo in a google.rpc.Status body); 413 is a
 * `failure` with `tooLarge`; 400 and every other code are permanent. The message quotes the server:
 * the Status message when the body is a protobuf/JSON google.rpc.Status, else a snippet of the body.
 */
export function classifyHttpErrorResponse(
  reply: HttpErrorReply,
  options: HttpClassifyOptions,
): Exclude<ExportResponse, { status: 'success' }> {
  const { statusCode } = reply;
  const body = describeErrorBody(reply.body, reply.contentType);
  const reason = STATUS_CODES[statusCode] ?? 'Unknown Status';
  const describe = (hint?: string): Error =>
    new Error(
      `${options.target}: HTTP ${statusCode} ${reason}` +
        (body.message !== undefined ? `: ${body.message}` : '') +
        (hint ? ` — ${hint}` : ''),
    );

  if (RETRYABLE_HTTP_CODES.has(statusCode)) {
    const retryAfterMs =
      parseRetryAfterMs(reply.retryAfter, options.nowMs ?? Date.now()) ?? body.retryDelayMs;
    return {
      status: 'retryable',
      error: describe(),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    };
  }
  if (statusCode === 413) {
    return {
      status: 'failure',
      tooLarge: true,
      error: describe("the request is larger than the server's body limit; split it into smaller requests"),
    };
  }
  return { status: 'failure', error: describe(httpHint(statusCode)) };
}

/**
 * Maps an error raised before a complete response arrived (cannot connect, reset, timeout, TLS) to an
 * ExportResponse: retryable, except for errors that only a configuration change can fix.
 */
export function classifyHttpNetworkError(
  error: Error & { code?: string },
  options: HttpClassifyOptions,
): Exclude<ExportResponse, { status: 'success' }> {
  const code = error.code ?? '';
  const text = error.message.replace(/\s+/g, ' ').trim();
  const base = `${options.target}: ${text}${code && !text.includes(code) ? ` (${code})` : ''}`;
  if (PERMANENT_NETWORK_CODES.has(code))
    return { status: 'failure', error: new Error(`${base} — not retried`) };
  if (TLS_CODE_PATTERN.test(code) || /certificate|\bssl\b|\btls\b|handshake/i.test(error.message)) {
    return {
      status: 'retryable',
      error: new Error(
        `${base} — TLS handshake failed: check tls.ca_file (OTEL_EXPORTER_OTLP_CERTIFICATE), tls.server_name, the client certificate, or the URL scheme`,
      ),
    };
  }
  if (code === 'ECONNREFUSED')
    return { status: 'retryable', error: new Error(`${base} — is the collector running?`) };
  return { status: 'retryable', error: new Error(base) };
}

/**
 * `Retry-After` in milliseconds: delay-seconds (`"120"`) or an HTTP-date (relative to `nowMs`, never
 * negative). Undefined when absent or unparseable.
 */
export function parseRetryAfterMs(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // An HTTP-date starts with the weekday (RFC 1123 `Sun,`, RFC 850 `Sunday,`, asctime `Sun `); this
  // rejects other strings Date.parse would accept.
  if (!/^[A-Za-z]{3,9},? /.test(v)) return undefined;
  // asctime dates carry no zone but are GMT, not local time.
  const at = Date.parse(/GMT|UTC|[+-]\d{4}$/.test(v) ? v : `${v} GMT`);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * What an error body says: the google.rpc.Status message (protobuf or JSON) and its RetryInfo, or a
 * whitespace-collapsed snippet of at most BODY_SNIPPET_MAX_CHARS characters for anything else (an HTML
 * page from a proxy, plain text). An empty body says nothing.
 */
export function describeErrorBody(
  body: Uint8Array,
  contentType: string | undefined,
): { message?: string; retryDelayMs?: number } {
  if (body.length === 0) return {};
  const type = (contentType ?? '').toLowerCase();
  if (type.includes('protobuf')) {
    try {
      const status = decodeRpcStatus(body);
      if (status.message !== '' || status.retryDelayMs !== undefined) {
        return {
          ...(status.message !== '' ? { message: status.message } : {}),
          ...(status.retryDelayMs !== undefined ? { retryDelayMs: status.retryDelayMs } : {}),
        };
      }
    } catch {
      // not a Status after all: quote it below
    }
  } else if (type.includes('json')) {
    const message = jsonStatusMessage(body);
    if (message !== undefined) return { message };
  }
  return { message: snippetOf(body) };
}

/** A printable, whitespace-collapsed prefix of a body, at most BODY_SNIPPET_MAX_CHARS characters. */
export function snippetOf(body: Uint8Array): string {
  const text = new TextDecoder('utf-8', { fatal: false })
    .decode(body.subarray(0, BODY_SNIPPET_MAX_CHARS * 4))
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000e-\u001f\u007f\ufffd]/g, '.')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...text];
  return chars.length > BODY_SNIPPET_MAX_CHARS
    ? `${chars.slice(0, BODY_SNIPPET_MAX_CHARS - 1).join('')}…`
    : text;
}

function jsonStatusMessage(body: Uint8Array): string | undefined {
  try {
    const parsed: unknown = JSON.parse(new TextDecoder().decode(body));
    if (typeof parsed === 'object' && parsed !== null && 'message' in parsed) {
      const message = parsed.message;
      if (typeof message === 'string' && message !== '') return message.slice(0, 1000);
    }
  } catch {
    // not JSON: quoted as a snippet
  }
  return undefined;
}

function httpHint(statusCode: number): string {
  switch (statusCode) {
    case 400:
      return 'the backend rejected the request as invalid: not retried';
    case 401:
    case 403:
      return 'check the authentication headers (values are not shown): not retried';
    case 404:
    case 405:
      return 'check the endpoint URL (OTLP profiles path: /v1development/profiles): not retried';
    case 415:
      return 'the backend does not accept this Content-Type; try the other protocol (protobuf/json): not retried';
    default:
      return 'not retried';
  }
}
