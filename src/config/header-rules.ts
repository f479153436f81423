import { validateHeaderName, validateHeaderValue } from 'node:http';

/**
 * What HTTP and gRPC allow in the `headers` of an OTLP exporter, checked once: by the configuration
 * (a configuration error, exit 2, listing every bad header) and by the transports that send them.
 * A problem names the header and what is wrong, never the value: values are secrets.
 */

/** gRPC metadata names (after lower-casing, as they go on the wire). */
const GRPC_NAME = /^[0-9a-z_.-]+$/;
/** gRPC ASCII metadata values: printable ASCII and space. */
const GRPC_VALUE = /^[\x20-\x7e]*$/;
/** `-bin` values are configured as base64 (padded or not) and sent as bytes. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why `name: value` cannot be an HTTP request header, or undefined when it can. */
export function httpHeaderProblem(name: string, value: string): string | undefined {
  const key = name.trim().toLowerCase();
  try {
    validateHeaderName(key);
  } catch {
    return (
      `header name ${JSON.stringify(name)} is not a valid HTTP header name: use letters, digits and ` +
      "!#$%&'*+-.^_`|~ only (no spaces, colons, quotes or slashes)"
    );
  }
  try {
    validateHeaderValue(key, value);
  } catch {
    return (
      `header ${JSON.stringify(name)}: its value holds a control character or line break, which HTTP does not ` +
      'allow (the value is not shown: check how it was pasted or encoded)'
    );
  }
  return undefined;
}

/** Why `name: value` cannot be gRPC metadata, or undefined when it can. */
export function grpcMetadataProblem(name: string, value: string): string | undefined {
  const key = name.trim().toLowerCase();
  if (!GRPC_NAME.test(key)) {
    return `header name ${JSON.stringify(name)} is not valid gRPC metadata: use lower-case letters, digits, "-", "_" and "." only`;
  }
  if (key.startsWith('grpc-')) {
    return `header name ${JSON.stringify(name)} is reserved by gRPC (names starting with grpc- are the protocol's own): choose another name`;
  }
  if (key.endsWith('-bin')) {
    if (!BASE64.test(value.trim()))
      return `header ${JSON.stringify(name)}: a -bin header carries bytes, configured as base64, and its value is not base64 (the value is not shown)`;
  } else if (!GRPC_VALUE.test(value)) {
    return (
      `header ${JSON.stringify(name)}: its value is not valid gRPC metadata: only printable ASCII is allowed, no control or ` +
      'non-ASCII characters (the value is not shown; for bytes, name the header NAME-bin and give base64)'
    );
  }
  return undefined;
}
