import { promisify } from 'node:util';
import { gunzip, inflate } from 'node:zlib';
import { decodeExportRequest } from '../profiles/encoding/decode-request.js';
import { fromOtlpJson } from '../profiles/encoding/otlp-json.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { formatSize } from '../config/units.js';
import type { BodyFormat } from './receive-outcome.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);

/** What reading a body gives: the request, or why it is refused (mapped to 400 / 413 by the caller). */
export type BodyResult =
  | { readonly kind: 'ok'; readonly request: ExportProfilesServiceRequest }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'too-large'; readonly message: string };

/** The refusal text of an over-limit request, naming both ways out. */
export function tooLargeMessage(what: string, maxBytes: number): string {
  return (
    `${what} exceeds the receiver's limit of ${formatSize(maxBytes)} (--max-request-size); ` +
    `send smaller requests (the exporter's batch.max_request_bytes) or raise --max-request-size`
  );
}

/**
 * Decompresses an OTLP/HTTP body (`Content-Encoding` gzip, deflate or identity) with the decompressed size
 * capped at `maxBytes`: a gzip bomb stops at the cap instead of filling memory.
 */
export async function decompressBody(
  raw: Buffer,
  encoding: string | undefined,
  maxBytes: number,
): Promise<{ kind: 'ok'; bytes: Buffer } | Exclude<BodyResult, { kind: 'ok' }>> {
  const name = (encoding ?? 'identity').trim().toLowerCase();
  if (name === 'identity' || name === '') return { kind: 'ok', bytes: raw };
  const inflater = name === 'gzip' ? gunzipAsync : name === 'deflate' ? inflateAsync : undefined;
  if (inflater === undefined) {
    return {
      kind: 'invalid',
      message: `Content-Encoding "${encoding}" is not supported; send gzip, deflate or an uncompressed body`,
    };
  }
  try {
    return { kind: 'ok', bytes: await inflater(raw, { maxOutputLength: maxBytes }) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      return {
        kind: 'too-large',
        message: tooLargeMessage(`the ${name}-decompressed request body`, maxBytes),
      };
    }
    return {
      kind: 'invalid',
      message: `the request body is not valid ${name} data (${(err as Error).message}); check Content-Encoding`,
    };
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes an ExportProfilesServiceRequest from protobuf bytes or OTLP/JSON text (hex ids). */
export function decodeBody(bytes: Uint8Array, format: BodyFormat): BodyResult {
  try {
    if (format === 'protobuf') return { kind: 'ok', request: decodeExportRequest(bytes) };
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      return { kind: 'invalid', message: 'the OTLP/JSON request body is not valid UTF-8' };
    }
    return { kind: 'ok', request: fromOtlpJson(text) };
  } catch (err) {
    const what = format === 'protobuf' ? 'protobuf' : 'OTLP/JSON';
    return { kind: 'invalid', message: `malformed ${what} request: ${(err as Error).message}` };
  }
}
