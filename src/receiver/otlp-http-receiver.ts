import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeExportResponse } from '../profiles/encoding/decode-request.js';
import { toOtlpJsonResponse } from '../profiles/encoding/otlp-json.js';
import { encodeRpcStatus, RETRY_INFO_TYPE_URL } from '../exporter/transport/rpc-status.js';
import { OTLP_HTTP_PROFILES_PATH } from '../config/endpoint.js';
import { decodeBody, decompressBody, tooLargeMessage } from './request-body.js';
import type { IngestGate } from './ingest-gate.js';
import type { BodyFormat, ReceiveOutcome } from './receive-outcome.js';
import { outcomeStatus, successResponse } from './outcome-status.js';

/** The URL path of OTLP/HTTP profiles export. */
export const OTLP_PROFILES_HTTP_PATH = `/${OTLP_HTTP_PROFILES_PATH}`;

export interface OtlpHttpReceiverOptions {
  readonly gate: IngestGate;
  /** Limit on the body, on the wire and after decompression. */
  readonly maxRequestBytes: number;
  /** Decodes a (decompressed) body; relay passes one that first reads the Sample layout (default decodeBody). */
  readonly decode?: typeof decodeBody;
}

/** Content types of OTLP/HTTP; anything else is 415 (what a Collector answers). */
function bodyFormat(contentType: string | undefined): BodyFormat | undefined {
  const mime = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (mime === 'application/x-protobuf' || mime === 'application/protobuf') return 'protobuf';
  if (mime === 'application/json') return 'json';
  return undefined;
}

/**
 * Handles `POST /v1development/profiles`: reads the body within the limit (Content-Length first, then
 * while streaming, then after decompression), decodes protobuf or OTLP/JSON, stores it through the gate
 * and answers only once the store has made it durable. Errors are a google.rpc.Status in the request's
 * encoding; 503 carries Retry-After (and RetryInfo) so exporters back off.
 */
export async function handleOtlpHttpExport(
  req: IncomingMessage,
  res: ServerResponse,
  options: OtlpHttpReceiverOptions,
): Promise<void> {
  const format = bodyFormat(req.headers['content-type']);
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    return answerStatus(res, format ?? 'json', {
      httpStatus: 405,
      rpcCode: 12, // UNIMPLEMENTED
      message: `${req.method ?? ''} ${OTLP_PROFILES_HTTP_PATH}: OTLP/HTTP export takes POST`,
    });
  }
  if (format === undefined) {
    return answerStatus(res, 'json', {
      httpStatus: 415,
      rpcCode: 3,
      message:
        `Content-Type "${req.headers['content-type'] ?? ''}" is not OTLP/HTTP; ` +
        `send application/x-protobuf or application/json`,
    });
  }
  const { maxRequestBytes } = options;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxRequestBytes) {
    res.setHeader('connection', 'close'); // the body is not read: the connection cannot be reused
    return answerOutcome(res, format, {
      kind: 'too-large',
      message: tooLargeMessage(`a request body of ${declared} bytes`, maxRequestBytes),
    });
  }
  const raw = await readBody(req, maxRequestBytes);
  if (raw === undefined) {
    res.setHeader('connection', 'close');
    return answerOutcome(res, format, {
      kind: 'too-large',
      message: tooLargeMessage('the request body', maxRequestBytes),
    });
  }
  const body = await decompressBody(raw, req.headers['content-encoding'], maxRequestBytes);
  if (body.kind !== 'ok') return answerOutcome(res, format, body);
  const decoded = (options.decode ?? decodeBody)(body.bytes, format);
  if (decoded.kind !== 'ok') return answerOutcome(res, format, decoded);
  return answerOutcome(res, format, await options.gate.ingest(decoded.request));
}

/** The body, or undefined once it grows past `maxBytes` (reading stops there). */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        req.off('data', onData);
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

function answerOutcome(res: ServerResponse, format: BodyFormat, outcome: ReceiveOutcome): void {
  if (outcome.kind === 'stored') {
    const response = successResponse(outcome.result);
    const body =
      format === 'json'
        ? Buffer.from(toOtlpJsonResponse(response))
        : Buffer.from(encodeExportResponse(response));
    send(res, 200, format, body);
    return;
  }
  answerStatus(res, format, outcomeStatus(outcome));
}

function answerStatus(
  res: ServerResponse,
  format: BodyFormat,
  status: { httpStatus: number; rpcCode: number; message: string; retryAfterMs?: number },
): void {
  const { retryAfterMs } = status;
  if (retryAfterMs !== undefined) res.setHeader('retry-after', String(Math.ceil(retryAfterMs / 1000)));
  let body: Buffer;
  if (format === 'json') {
    const details =
      retryAfterMs !== undefined
        ? [{ '@type': RETRY_INFO_TYPE_URL, retryDelay: `${(retryAfterMs / 1000).toFixed(3)}s` }]
        : [];
    body = Buffer.from(JSON.stringify({ code: status.rpcCode, message: status.message, details }));
  } else {
    body = Buffer.from(
      encodeRpcStatus({
        code: status.rpcCode,
        message: status.message,
        ...(retryAfterMs !== undefined ? { retryDelayMs: retryAfterMs } : {}),
      }),
    );
  }
  send(res, status.httpStatus, format, body);
}

function send(res: ServerResponse, statusCode: number, format: BodyFormat, body: Buffer): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(statusCode, {
    'content-type': format === 'json' ? 'application/json' : 'application/x-protobuf',
    'content-length': body.length,
  });
  res.end(body);
}
