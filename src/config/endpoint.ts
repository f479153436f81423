/**
 * Endpoint normalisation, done once here so transports need no URL logic:
 * - otlp-grpc: `host:port` or `unix:/path` (or another gRPC target scheme such as `dns:///h:p`),
 *   plus the TLS decision: `http://` means plaintext, `https://` TLS, no scheme → `insecure`.
 * - otlp-http: a full URL, following the OTLP exporter spec's URL construction rules.
 */

/** Path the OTLP HTTP receivers serve profiles on (v1development until the signal is stable). */
export const OTLP_HTTP_PROFILES_PATH = 'v1development/profiles';

/** Spec defaults when nothing names an endpoint (env-built `default` exporter only). */
export const DEFAULT_GRPC_ENDPOINT = 'http://localhost:4317';
export const DEFAULT_HTTP_ENDPOINT = 'http://localhost:4318';

/**
 * How the raw endpoint was given, which decides the HTTP URL construction:
 * `signal-env` (OTEL_EXPORTER_OTLP_PROFILES_ENDPOINT: as-is), `generic-env`
 * (OTEL_EXPORTER_OTLP_ENDPOINT: base URL + `v1development/profiles`), `config` (file, flag, --set,
 * default: the profiles path is added only when the URL has none).
 */
export type EndpointOrigin = 'config' | 'signal-env' | 'generic-env';

export interface InsecureSetting {
  readonly value: boolean;
  /** True when the user wrote it in the file, a flag or --set (a conflict with https:// is then an error). */
  readonly explicit: boolean;
}

export type EndpointResult =
  | {
      readonly ok: true;
      readonly endpoint: string;
      readonly insecure: boolean;
      readonly warnings: readonly string[];
    }
  | { readonly ok: false; readonly problem: string };

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;
const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+):(\d{1,5})$/;
/** `user:password@` before the host (after the scheme, if any). */
const USERINFO = /^((?:[a-z][a-z0-9+.-]*:\/\/)?)[^/?#\s]*@/i;

/** The endpoint as messages may show it: a password in it must never be printed back. */
function shown(text: string): string {
  return JSON.stringify(text.replace(USERINFO, '$1…@'));
}

/** Credentials belong in a header: in the URL they would be logged and printed by --print-config. */
function credentialsProblem(text: string): EndpointResult {
  return {
    ok: false,
    problem:
      `${shown(text)} holds a user name or password: endpoints must not carry credentials; send them in a header ` +
      'instead, e.g. --header "authorization=Basic <base64 of user:password>" (or headers: in the file)',
  };
}

function portZeroProblem(text: string): EndpointResult {
  return {
    ok: false,
    problem: `${shown(text)}: port 0 is not a port a collector can listen on (OTLP uses 4317 for gRPC, 4318 for HTTP)`,
  };
}

/** Normalises an otlp-grpc endpoint to a gRPC target and decides plaintext vs TLS. */
export function normaliseGrpcEndpoint(raw: string, insecure: InsecureSetting | undefined): EndpointResult {
  const text = raw.trim();
  const warnings: string[] = [];
  if (/^unix:/i.test(text)) {
    if (text.replace(/^unix:(\/\/)?/i, '') === '')
      return { ok: false, problem: `"${text}" names no socket path (e.g. unix:/run/otel.sock)` };
    // TLS over a local socket is unusual: plaintext unless the user asked for TLS explicitly.
    return { ok: true, endpoint: text, insecure: insecure?.explicit ? insecure.value : true, warnings };
  }
  if (USERINFO.test(text)) return credentialsProblem(text);
  const scheme = SCHEME.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    const m = HOST_PORT.exec(text);
    if (!m) {
      return {
        ok: false,
        problem: `${shown(text)} is not host:port (e.g. collector:4317, 127.0.0.1:4317, [::1]:4317 or https://collector:4317)`,
      };
    }
    if (Number(m[2]) > 65535) return { ok: false, problem: `${shown(text)}: port ${m[2]} is out of range` };
    if (Number(m[2]) === 0) return portZeroProblem(text);
    return { ok: true, endpoint: text, insecure: insecure?.value ?? false, warnings };
  }
  if (scheme !== 'http' && scheme !== 'https') {
    if (scheme === 'dns' || scheme === 'ipv4' || scheme === 'ipv6') {
      return { ok: true, endpoint: text, insecure: insecure?.value ?? false, warnings };
    }
    return {
      ok: false,
      problem: `${shown(text)}: scheme ${scheme}:// is not supported (use host:port, http://, https:// or unix:)`,
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `${shown(text)} is not a valid URL` };
  }
  if (url.port === '0') return portZeroProblem(text);
  if (scheme === 'https' && insecure?.explicit && insecure.value) {
    return {
      ok: false,
      problem: `insecure is true but the endpoint ${shown(text)} is https:// (use http://${url.host} for plaintext, or drop insecure)`,
    };
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    warnings.push(`the path of ${shown(text)} is ignored: gRPC endpoints are host:port`);
  }
  const port = url.port || (scheme === 'http' ? '80' : '443');
  return { ok: true, endpoint: `${url.hostname}:${port}`, insecure: scheme === 'http', warnings };
}

/** Builds the full otlp-http URL from an endpoint as the spec's URL construction rules say. */
export function normaliseHttpEndpoint(
  raw: string,
  origin: EndpointOrigin,
  insecure: InsecureSetting | undefined,
): EndpointResult {
  let text = raw.trim();
  if (!SCHEME.test(text)) text = `${insecure?.value ? 'http' : 'https'}://${text}`;
  if (USERINFO.test(text)) return credentialsProblem(raw.trim());
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, problem: `${shown(raw)} is not a valid URL (e.g. http://collector:4318)` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, problem: `${shown(raw)}: only http:// and https:// are supported for otlp-http` };
  }
  if (url.port === '0') return portZeroProblem(raw.trim());
  if (url.protocol === 'https:' && insecure?.explicit && insecure.value) {
    return {
      ok: false,
      problem: `insecure is true but the endpoint ${shown(raw)} is https:// (use http://${url.host}${url.pathname === '/' ? '' : url.pathname} for plaintext, or drop insecure)`,
    };
  }
  switch (origin) {
    case 'signal-env':
      // As-is; an empty path is already "/" in a parsed URL.
      break;
    case 'generic-env':
      if (!url.pathname.endsWith('/')) url.pathname += '/';
      url.pathname += OTLP_HTTP_PROFILES_PATH;
      break;
    case 'config':
      if (url.pathname === '/' || url.pathname === '') url.pathname = `/${OTLP_HTTP_PROFILES_PATH}`;
      break;
  }
  return { ok: true, endpoint: url.href, insecure: url.protocol === 'http:', warnings: [] };
}
