import type { ExportProfilesServiceRequest, ExportProfilesServiceResponse } from '../model/otlp-model.js';
import { reviveExportResponse } from './model-reviver.js';
import { exportResponseType } from './proto-schema.js';
import { readExportRequest } from './request-decoder.js';
import { errorText } from '../../util/error-text.js';

/**
 * protobufjs `toObject` options: 64-bit values as bigint; bytes stay Uint8Array (copied by the reviver);
 * no defaults, so absence is visible and the reviver decides the model's defaults in one place.
 */
const TO_OBJECT_OPTIONS = { longs: BigInt, defaults: false, arrays: false, oneofs: false } as const;

/**
 * Decodes protobuf `ExportProfilesServiceRequest` bytes into the model (the hand-written decoder of
 * request-decoder.ts, independent of our encoder): 64-bit fields as bigint, absent fields as defaults,
 * every array present. Throws an Error naming the field path and byte offset on malformed bytes.
 */
export function decodeExportRequest(bytes: Uint8Array): ExportProfilesServiceRequest {
  try {
    return readExportRequest(bytes);
  } catch (err) {
    throw new Error(`cannot decode ExportProfilesServiceRequest (${bytes.length} bytes): ${errorText(err)}`);
  }
}

/** Decodes protobuf `ExportProfilesServiceResponse` bytes (empty bytes = full success = `{}`). */
export function decodeExportResponse(bytes: Uint8Array): ExportProfilesServiceResponse {
  const type = exportResponseType();
  let plain: unknown;
  try {
    plain = type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS);
  } catch (err) {
    throw new Error(`cannot decode ExportProfilesServiceResponse (${bytes.length} bytes): ${errorText(err)}`);
  }
  return reviveExportResponse(plain, 'ExportProfilesServiceResponse');
}

/**
 * Encodes an `ExportProfilesServiceResponse` as protobuf (used by test servers). Default scalars inside
 * `partial_success` are omitted; a present `partialSuccess` is written even when empty.
 */
export function encodeExportResponse(response: ExportProfilesServiceResponse): Uint8Array {
  const type = exportResponseType();
  const ps = response.partialSuccess;
  const plain: Record<string, unknown> = {};
  if (ps) {
    const inner: Record<string, unknown> = {};
    if (ps.rejectedProfiles !== 0n) inner.rejectedProfiles = ps.rejectedProfiles;
    if (ps.errorMessage !== '') inner.errorMessage = ps.errorMessage;
    plain.partialSuccess = inner;
  }
  return type.encode(type.fromObject(plain)).finish();
}
