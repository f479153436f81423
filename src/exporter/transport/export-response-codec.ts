import type { ExportProfilesServiceResponse } from '../../profiles/otlp-model.js';
import type { ExportResponse } from '../export-response.js';
import { loadProtoRoot } from './proto-root.js';

const root = loadProtoRoot(['opentelemetry/proto/collector/profiles/v1development/profiles_service.proto']);
const ResponseType = root.lookupType(
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse',
);

interface RawResponse {
  partialSuccess?: { rejectedProfiles?: bigint; errorMessage?: string };
}

/** Decodes protobuf `ExportProfilesServiceResponse` bytes (empty bytes = full success). Throws on bad bytes. */
export function decodeExportResponse(bytes: Uint8Array): ExportProfilesServiceResponse {
  const raw = ResponseType.toObject(ResponseType.decode(bytes), { longs: BigInt }) as RawResponse;
  if (!raw.partialSuccess) return {};
  return {
    partialSuccess: {
      rejectedProfiles: raw.partialSuccess.rejectedProfiles ?? 0n,
      errorMessage: raw.partialSuccess.errorMessage ?? '',
    },
  };
}

/** Encodes an `ExportProfilesServiceResponse` as protobuf. */
export function encodeExportResponse(response: ExportProfilesServiceResponse): Uint8Array {
  return ResponseType.encode(ResponseType.fromObject(response)).finish();
}

/**
 * Decodes an OTLP/JSON `ExportProfilesServiceResponse`. `rejectedProfiles` may be a decimal string
 * (the OTLP rule for int64) or a number; snake_case keys are accepted like the Collector does.
 * Throws on text that is not such a JSON object.
 */
export function decodeExportResponseJson(text: string): ExportProfilesServiceResponse {
  if (text.trim() === '') return {};
  const parsed: unknown = JSON.parse(text);
  if (!isObject(parsed)) throw new Error('ExportProfilesServiceResponse JSON is not an object');
  const partial = parsed.partialSuccess ?? parsed.partial_success;
  if (partial === undefined || partial === null) return {};
  if (!isObject(partial)) throw new Error('partialSuccess is not an object');
  const rejected = partial.rejectedProfiles ?? partial.rejected_profiles ?? 0;
  const message = partial.errorMessage ?? partial.error_message ?? '';
  if (typeof rejected !== 'string' && typeof rejected !== 'number') {
    throw new Error('partialSuccess.rejectedProfiles is neither a string nor a number');
  }
  if (typeof message !== 'string') throw new Error('partialSuccess.errorMessage is not a string');
  let rejectedProfiles: bigint;
  try {
    rejectedProfiles = BigInt(rejected);
  } catch {
    throw new Error(`partialSuccess.rejectedProfiles is not an integer: ${JSON.stringify(rejected)}`);
  }
  return { partialSuccess: { rejectedProfiles, errorMessage: message } };
}

/** Encodes an OTLP/JSON `ExportProfilesServiceResponse` (int64 as a decimal string). */
export function encodeExportResponseJson(response: ExportProfilesServiceResponse): string {
  if (!response.partialSuccess) return '{}';
  const { rejectedProfiles, errorMessage } = response.partialSuccess;
  const partialSuccess: Record<string, string> = { rejectedProfiles: rejectedProfiles.toString() };
  if (errorMessage !== '') partialSuccess.errorMessage = errorMessage;
  return JSON.stringify({ partialSuccess });
}

/**
 * The `success` ExportResponse for a decoded response: `rejectedProfiles` is set whenever the server
 * populated partial_success meaningfully (0 + message = a warning), `message` when it is non-empty.
 */
export function successFromExportResponse(response: ExportProfilesServiceResponse): ExportResponse {
  const partial = response.partialSuccess;
  // An empty partial_success is, per the spec, the same as none.
  if (!partial || (partial.rejectedProfiles === 0n && partial.errorMessage === ''))
    return { status: 'success' };
  return {
    status: 'success',
    rejectedProfiles: Number(partial.rejectedProfiles),
    ...(partial.errorMessage !== '' ? { message: partial.errorMessage } : {}),
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
