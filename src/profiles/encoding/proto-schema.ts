import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { errorText } from '../../util/error-text.js';

/**
 * Directory of our own .proto files, resolved against this module. Both `src/profiles/encoding/` (tsx)
 * and the compiled `dist/profiles/encoding/` sit three levels below the package root, which ships `proto/`.
 */
export const PROFILES_PROTO_DIR = new URL('../../../proto/profiles/', import.meta.url);

/** Entry files (relative to PROFILES_PROTO_DIR); their imports are resolved against the same directory. */
const PROTO_FILES = [
  'opentelemetry/proto/collector/profiles/v1development/profiles_service.proto',
  'google/rpc/status.proto',
] as const;

/** Fully-qualified names of the message types other modules look up. */
export const EXPORT_REQUEST_TYPE =
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest';
export const EXPORT_RESPONSE_TYPE =
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse';
export const RPC_STATUS_TYPE = 'google.rpc.Status';
export const RPC_RETRY_INFO_TYPE = 'google.rpc.RetryInfo';

let cachedRoot: protobuf.Root | undefined;

/**
 * The protobufjs reflection root for OTLP profiles (request/response, profiles data, common/resource)
 * plus google.rpc.Status/RetryInfo. Loaded synchronously on first use and cached. Field names are
 * camelCase (`keepCase: false`).
 */
export function getProfilesProtoRoot(): protobuf.Root {
  if (cachedRoot) return cachedRoot;
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => fileURLToPath(new URL(target, PROFILES_PROTO_DIR));
  try {
    root.loadSync([...PROTO_FILES], { keepCase: false });
    root.resolveAll();
  } catch (err) {
    const reason = errorText(err);
    throw new Error(
      `cannot load OTLP profiles .proto files from ${fileURLToPath(PROFILES_PROTO_DIR)}: ${reason} ` +
        '(the package must ship proto/profiles next to src/ or dist/)',
    );
  }
  cachedRoot = root;
  return root;
}

const typeCache = new Map<string, protobuf.Type>();

function lookup(name: string): protobuf.Type {
  let t = typeCache.get(name);
  if (!t) {
    t = getProfilesProtoRoot().lookupType(name);
    typeCache.set(name, t);
  }
  return t;
}

/** `opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest`. */
export function exportRequestType(): protobuf.Type {
  return lookup(EXPORT_REQUEST_TYPE);
}

/** `opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceResponse`. */
export function exportResponseType(): protobuf.Type {
  return lookup(EXPORT_RESPONSE_TYPE);
}

/** `google.rpc.Status` (OTLP/HTTP error bodies, gRPC `grpc-status-details-bin`). */
export function rpcStatusType(): protobuf.Type {
  return lookup(RPC_STATUS_TYPE);
}

/** `google.rpc.RetryInfo` (throttling hint inside a Status' details). */
export function retryInfoType(): protobuf.Type {
  return lookup(RPC_RETRY_INFO_TYPE);
}
