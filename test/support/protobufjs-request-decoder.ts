import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { reviveExportRequest } from '../../src/profiles/encoding/model-reviver.js';
import { exportRequestType } from '../../src/profiles/encoding/proto-schema.js';

/** protobufjs `toObject` options of the former production decoder (64-bit as bigint, absence visible). */
const TO_OBJECT_OPTIONS = { longs: BigInt, defaults: false, arrays: false, oneofs: false } as const;

/**
 * The request decoder production used before the hand-written one (protobufjs reflection + the model
 * reviver), kept as the differential oracle of test/encoding/request-decoder.test.ts. Throws what
 * protobufjs or the reviver throw.
 */
export function decodeWithProtobufjs(bytes: Uint8Array): ExportProfilesServiceRequest {
  const type = exportRequestType();
  return reviveExportRequest(
    type.toObject(type.decode(bytes), TO_OBJECT_OPTIONS),
    'ExportProfilesServiceRequest',
  );
}
