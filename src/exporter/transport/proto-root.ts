import protobuf from 'protobufjs';

/**
 * Directory of the project's own .proto files. Resolved against this module, so it works both from
 * `src/exporter/transport/` (tsx) and from `dist/exporter/transport/` (the built package ships `proto/`).
 */
export const PROTO_DIR = new URL('../../../proto/profiles/', import.meta.url);

/**
 * Loads .proto files (paths relative to PROTO_DIR) with protobufjs reflection. Imports inside the files
 * are resolved against PROTO_DIR too (they are written as `opentelemetry/proto/...`, `google/...`).
 */
export function loadProtoRoot(files: readonly string[]): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => new URL(target, PROTO_DIR).pathname;
  try {
    root.loadSync([...files], { keepCase: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(
      `cannot load ${files.join(', ')} from ${PROTO_DIR.pathname}: ${reason} (is the proto/ directory shipped next to dist/?)`,
    );
  }
  root.resolveAll();
  return root;
}
