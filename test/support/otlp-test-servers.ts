/**
 * Scriptable OTLP profiles receivers for tests: a gRPC server (HTTP/2, gRPC wire protocol written
 * out here, so tests see the compressed flag, grpc-encoding and wire size) and an OTLP/HTTP server.
 * Both listen on loopback port 0 unless told otherwise, optionally with TLS or mTLS, answer each call
 * with the next scripted response (then `defaultResponse`, OK unless changed), record every request,
 * and can be stopped and restarted on the same port to play a backend that is down for a while.
 */
import { once } from 'node:events';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync, inflateSync } from 'node:zlib';
import type { ExportProfilesServiceResponse } from '../../src/profiles/model/otlp-model.js';
import { encodeExportResponse } from '../../src/profiles/encoding/decode-request.js';
import { toOtlpJsonResponse } from '../../src/profiles/encoding/otlp-json.js';
import { encodeRpcStatus } from '../../src/exporter/transport/rpc-status.js';

export const OTLP_PROFILES_GRPC_PATH =
  '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export';
export const OTLP_PROFILES_HTTP_PATH = '/v1development/profiles';

/** One scripted answer. Fields that do not apply to a server kind are ignored by it. */
export interface ScriptedResponse {
  /** gRPC: answer with this non-OK status (trailers-only response). */
  readonly grpcStatus?: number;
  /** gRPC: grpc-message. HTTP: message of the google.rpc.Status error body. */
  readonly message?: string;
  /** google.rpc.RetryInfo delay: in grpc-status-details-bin (gRPC) or in the HTTP Status error body. */
  readonly retryDelayMs?: number;
  /**
   * HTTP: the status code (default 200). gRPC server: answer like a non-gRPC proxy would, with this
   * HTTP status and no grpc-status.
   */
  readonly httpStatus?: number;
  /** HTTP: Retry-After header value (delay-seconds or HTTP-date). */
  readonly retryAfter?: string;
  /** HTTP (and gRPC `httpStatus` answers): raw body instead of the OTLP-encoded one. */
  readonly body?: string | Uint8Array;
  /** Content-Type of `body` (default text/plain). */
  readonly contentType?: string;
  /** Extra response headers (HTTP) or trailing metadata (gRPC). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Success with partial_success (protobuf or JSON, like the request). */
  readonly partialSuccess?: { readonly rejected: number; readonly message?: string };
  /** Never answer (until the client gives up or the server stops). */
  readonly hang?: boolean;
  /** Answer after this delay. */
  readonly delayMs?: number;
  /** Drop the connection without answering. */
  readonly disconnect?: boolean;
}

/** One request as the server saw it. */
export interface RecordedRequest {
  /** Date.now() when the request headers arrived. */
  readonly arrivalMs: number;
  readonly method: string;
  readonly path: string;
  /** Lower-case names: HTTP headers, or gRPC metadata including the reserved `grpc-*` headers. */
  readonly headers: Readonly<Record<string, string>>;
  /** Content-Type header (`application/grpc`, `application/x-protobuf`, `application/json`). */
  readonly contentType?: string;
  /** HTTP Content-Encoding, or gRPC grpc-encoding when the message arrived compressed. */
  readonly contentEncoding?: string;
  /** Whether the body arrived compressed. */
  readonly compressed: boolean;
  /** Bytes received on the wire (compressed size; gRPC: the message without its 5-byte prefix). */
  readonly wireBytes: number;
  /** The decompressed body: ExportProfilesServiceRequest protobuf, or OTLP/JSON text bytes. */
  readonly body: Uint8Array;
  /** What the server answered (after script and size limit). */
  readonly response: ScriptedResponse;
}

export interface OtlpTestServerTls {
  readonly cert: string | Buffer;
  readonly key: string | Buffer;
  /** CA for client certificates; with `requireClientCert`, connections without a valid one fail. */
  readonly ca?: string | Buffer;
  readonly requireClientCert?: boolean;
}

export interface OtlpTestServerOptions {
  /** Responses consumed one per call, in order. */
  readonly script?: readonly ScriptedResponse[];
  /** Answer once the script is used up (default: OK / 200, full success). */
  readonly defaultResponse?: ScriptedResponse;
  readonly tls?: OtlpTestServerTls;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0 (any free port). */
  readonly port?: number;
  /**
   * gRPC only: listen on this unix socket instead of TCP (endpoint `unix:<path>`, port 0). Put it in a
   * temp dir; it is removed on stop.
   */
  readonly socketPath?: string;
  /** HTTP only: the path served (others get 404). Default /v1development/profiles. */
  readonly path?: string;
  /**
   * Decompressed request size limit, checked before the script (no entry consumed). Over it, gRPC
   * answers RESOURCE_EXHAUSTED with grpc-go's "grpc: received message larger than max (N vs. M)"
   * (what the Collector says) and HTTP answers 413.
   */
  readonly maxRequestBytes?: number;
}

export interface OtlpTestServer {
  readonly kind: 'grpc' | 'http';
  readonly host: string;
  /** Fixed after the first start; kept across stop()/restart(). */
  readonly port: number;
  /**
   * gRPC: `127.0.0.1:port` (or `unix:<socketPath>`). HTTP: the full URL,
   * `http(s)://127.0.0.1:port/v1development/profiles`.
   */
  readonly endpoint: string;
  /** Every request so far, in arrival order (also while stopped: the history stays). */
  readonly requests: RecordedRequest[];
  /** Answer after the script is used up; may be reassigned. */
  defaultResponse: ScriptedResponse;
  /** Appends responses to the script. */
  script(...responses: ScriptedResponse[]): void;
  /** Scripted responses not used yet. */
  readonly pending: number;
  readonly running: boolean;
  /** Resolves once `count` requests in total have been recorded; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs?: number): Promise<void>;
  /** Stops listening and drops every connection (hanging calls included); the port is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
  /** Stops for good; resolves when every socket is closed. */
  close(): Promise<void>;
}

const WAIT_DEFAULT_MS = 5_000;

/** Bookkeeping shared by both servers: script, recording, waiters, hanging calls. */
class ServerState {
  readonly requests: RecordedRequest[] = [];
  private readonly queue: ScriptedResponse[];
  defaultResponse: ScriptedResponse;
  private waiters: { count: number; resolve: () => void }[] = [];
  readonly timers = new Set<NodeJS.Timeout>();

  constructor(options: OtlpTestServerOptions) {
    this.queue = [...(options.script ?? [])];
    this.defaultResponse = options.defaultResponse ?? {};
  }

  next(): ScriptedResponse {
    return this.queue.shift() ?? this.defaultResponse;
  }

  get pending(): number {
    return this.queue.length;
  }

  push(responses: ScriptedResponse[]): void {
    this.queue.push(...responses);
  }

  record(request: RecordedRequest): void {
    this.requests.push(request);
    const ready = this.waiters.filter((w) => this.requests.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.requests.length < w.count);
    for (const w of ready) w.resolve();
  }

  waitFor(count: number, timeoutMs: number): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`test server: ${this.requests.length} of ${count} requests after ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

/** A listener (http.Server or http2 server) that can be closed and re-listened on a fixed port. */
interface Listener {
  /** Listens on a unix socket when `path` is set, else on host:port; resolves to the bound port. */
  listen(port: number, host: string, path?: string): Promise<number>;
  /** Closes the server and destroys every open socket. */
  shutdown(): Promise<void>;
}

function makeServerHandle(
  kind: 'grpc' | 'http',
  options: OtlpTestServerOptions,
  state: ServerState,
  makeListener: () => Listener,
  endpointOf: (host: string, port: number) => string,
): Promise<OtlpTestServer> {
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? 0;
  let listener: Listener | undefined;
  let closed = false;

  const start = async (): Promise<void> => {
    const l = makeListener();
    port = await l.listen(port, host, options.socketPath);
    listener = l;
  };
  const stop = async (): Promise<void> => {
    const l = listener;
    listener = undefined;
    state.clearTimers();
    if (l) await l.shutdown();
  };
  const handle: OtlpTestServer = {
    kind,
    host,
    get port() {
      return port;
    },
    get endpoint() {
      if (options.socketPath !== undefined) return `unix:${options.socketPath}`;
      return endpointOf(host.includes(':') ? `[${host}]` : host, port);
    },
    requests: state.requests,
    get defaultResponse() {
      return state.defaultResponse;
    },
    set defaultResponse(r: ScriptedResponse) {
      state.defaultResponse = r;
    },
    script: (...responses) => state.push(responses),
    get pending() {
      return state.pending;
    },
    get running() {
      return listener !== undefined;
    },
    waitForRequests: (count, timeoutMs = WAIT_DEFAULT_MS) => state.waitFor(count, timeoutMs),
    stop,
    restart: async () => {
      if (closed) throw new Error('test server: restart() after close()');
      if (!listener) await start();
    },
    close: async () => {
      closed = true;
      await stop();
    },
  };
  return start().then(() => handle);
}

/** Tracks sockets so shutdown can destroy keep-alive and hanging connections. */
function trackSockets(server: http.Server | http2.Http2Server | http2.Http2SecureServer): Set<Socket> {
  const sockets = new Set<Socket>();
  const add = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };
  server.on('connection', add);
  server.on('secureConnection', add);
  return sockets;
}

async function listenOn(
  server: http.Server | http2.Http2Server | http2.Http2SecureServer,
  port: number,
  host: string,
  path?: string,
): Promise<number> {
  if (path !== undefined) server.listen(path);
  else server.listen(port, host);
  await once(server, 'listening');
  if (path !== undefined) return 0;
  return (server.address() as AddressInfo).port;
}

async function shutdownServer(
  server: http.Server | http2.Http2Server | http2.Http2SecureServer,
  sockets: Set<Socket>,
  sessions?: Set<http2.ServerHttp2Session>,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const session of sessions ?? []) session.destroy();
  for (const socket of sockets) socket.destroy();
  await closed;
}

function toBuffer(body: string | Uint8Array): Buffer {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
}

function responseModel(r: ScriptedResponse): ExportProfilesServiceResponse {
  return r.partialSuccess
    ? {
        partialSuccess: {
          rejectedProfiles: BigInt(r.partialSuccess.rejected),
          errorMessage: r.partialSuccess.message ?? '',
        },
      }
    : {};
}

function headerMap(headers: http.IncomingHttpHeaders | http2.IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (k.startsWith(':') || v === undefined) continue;
    out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// gRPC

/** gRPC's percent-encoding of grpc-message: everything outside printable ASCII, and '%'. */
function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out +=
      byte >= 0x20 && byte <= 0x7e && byte !== 0x25
        ? String.fromCharCode(byte)
        : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Splits a gRPC request body into its length-prefixed messages. */
function parseGrpcFrames(data: Buffer): { compressed: boolean; message: Buffer }[] {
  const frames: { compressed: boolean; message: Buffer }[] = [];
  let offset = 0;
  while (offset + 5 <= data.length) {
    const compressed = data.readUInt8(offset) === 1;
    const length = data.readUInt32BE(offset + 1);
    frames.push({ compressed, message: data.subarray(offset + 5, offset + 5 + length) });
    offset += 5 + length;
  }
  return frames;
}

function grpcFrame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

/**
 * An OTLP/gRPC profiles receiver. Unknown methods get UNIMPLEMENTED. Script fields used:
 * grpcStatus, message, retryDelayMs, partialSuccess, headers (trailing metadata), hang, delayMs,
 * disconnect, httpStatus/body/contentType (non-gRPC answer).
 */
export function startGrpcOtlpServer(options: OtlpTestServerOptions = {}): Promise<OtlpTestServer> {
  const state = new ServerState(options);

  const handleStream = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void => {
    const arrivalMs = Date.now();
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', () => undefined); // the client cancelling a hanging call
    stream.on('end', () => {
      const path = String(headers[':path'] ?? '');
      const meta = headerMap(headers);
      const encoding = meta['grpc-encoding'];
      const frames = parseGrpcFrames(Buffer.concat(chunks));
      const frame = frames[0];
      const compressed = frame?.compressed ?? false;
      let body: Buffer = frame?.message ?? Buffer.alloc(0);
      if (compressed) body = encoding === 'deflate' ? inflateSync(body) : gunzipSync(body);
      let response: ScriptedResponse;
      if (path !== OTLP_PROFILES_GRPC_PATH) {
        response = { grpcStatus: 12, message: `unknown method ${path}` };
      } else if (options.maxRequestBytes !== undefined && body.length > options.maxRequestBytes) {
        response = {
          grpcStatus: 8,
          message: `grpc: received message larger than max (${body.length} vs. ${options.maxRequestBytes})`,
        };
      } else {
        response = state.next();
      }
      state.record({
        arrivalMs,
        method: String(headers[':method'] ?? ''),
        path,
        headers: meta,
        ...(meta['content-type'] !== undefined ? { contentType: meta['content-type'] } : {}),
        ...(compressed && encoding !== undefined ? { contentEncoding: encoding } : {}),
        compressed,
        wireBytes: frame?.message.length ?? 0,
        body,
        response,
      });
      if (response.hang) return;
      const answer = (): void => answerGrpc(stream, response);
      if (response.delayMs) state.later(response.delayMs, answer);
      else answer();
    });
  };

  const answerGrpc = (stream: http2.ServerHttp2Stream, r: ScriptedResponse): void => {
    if (stream.destroyed || stream.closed) return;
    if (r.disconnect) {
      stream.session?.destroy();
      return;
    }
    if (r.httpStatus !== undefined && r.httpStatus !== 200) {
      stream.respond({ ':status': r.httpStatus, 'content-type': r.contentType ?? 'text/plain' });
      stream.end(r.body !== undefined ? toBuffer(r.body) : undefined);
      return;
    }
    const extra = r.headers ?? {};
    if (r.grpcStatus !== undefined && r.grpcStatus !== 0) {
      const trailers: http2.OutgoingHttpHeaders = {
        ':status': 200,
        'content-type': 'application/grpc',
        ...extra,
        'grpc-status': String(r.grpcStatus),
        'grpc-message': encodeGrpcMessage(r.message ?? ''),
      };
      if (r.retryDelayMs !== undefined) {
        const status = encodeRpcStatus({
          code: r.grpcStatus,
          message: r.message ?? '',
          retryDelayMs: r.retryDelayMs,
        });
        trailers['grpc-status-details-bin'] = Buffer.from(status).toString('base64').replace(/=+$/, '');
      }
      stream.respond(trailers, { endStream: true }); // trailers-only response
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () =>
      stream.sendTrailers({ ...extra, 'grpc-status': '0', 'grpc-message': '' }),
    );
    stream.end(grpcFrame(encodeExportResponse(responseModel(r))));
  };

  const makeListener = (): Listener => {
    const tls = options.tls;
    const server = tls
      ? http2.createSecureServer({
          cert: tls.cert,
          key: tls.key,
          ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
          requestCert: tls.requireClientCert ?? false,
          rejectUnauthorized: tls.requireClientCert ?? false,
          ALPNProtocols: ['h2'],
        })
      : http2.createServer();
    const sockets = trackSockets(server);
    const sessions = new Set<http2.ServerHttp2Session>();
    server.on('session', (session: http2.ServerHttp2Session) => {
      sessions.add(session);
      session.on('error', () => undefined);
      session.once('close', () => sessions.delete(session));
    });
    server.on('stream', handleStream);
    server.on('tlsClientError', () => undefined); // handshake failures are what some tests provoke
    return {
      listen: (port, host, path) => listenOn(server, port, host, path),
      shutdown: () => shutdownServer(server, sockets, sessions),
    };
  };

  return makeServerHandle('grpc', options, state, makeListener, (host, port) => `${host}:${port}`);
}

// ---------------------------------------------------------------------------------------------
// HTTP

/**
 * An OTLP/HTTP profiles receiver. Answers in the request's encoding (JSON when the request was
 * application/json, else protobuf): ExportProfilesServiceResponse on success, google.rpc.Status
 * (with RetryInfo when `retryDelayMs`) on errors, unless `body` gives the raw body.
 */
export function startHttpOtlpServer(options: OtlpTestServerOptions = {}): Promise<OtlpTestServer> {
  if (options.socketPath !== undefined) {
    return Promise.reject(new Error('startHttpOtlpServer: socketPath is for the gRPC server only'));
  }
  const state = new ServerState(options);
  const servedPath = options.path ?? OTLP_PROFILES_HTTP_PATH;

  const handle = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const arrivalMs = Date.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const meta = headerMap(req.headers);
      const encoding = meta['content-encoding'];
      const compressed = encoding === 'gzip' || encoding === 'deflate';
      let body: Buffer = raw;
      let bodyError: string | undefined;
      try {
        if (encoding === 'gzip') body = gunzipSync(raw);
        else if (encoding === 'deflate') body = inflateSync(raw);
      } catch (err) {
        bodyError = `cannot decompress ${encoding} body: ${String(err)}`;
      }
      const path = (req.url ?? '').split('?')[0] ?? '';
      let response: ScriptedResponse;
      if (path !== servedPath || req.method !== 'POST') {
        response = {
          httpStatus: 404,
          body: '404 page not found\n',
          contentType: 'text/plain; charset=utf-8',
        };
      } else if (bodyError !== undefined) {
        response = { httpStatus: 400, message: bodyError };
      } else if (options.maxRequestBytes !== undefined && body.length > options.maxRequestBytes) {
        response = {
          httpStatus: 413,
          message: `request body of ${body.length} bytes exceeds ${options.maxRequestBytes}`,
        };
      } else {
        response = state.next();
      }
      state.record({
        arrivalMs,
        method: req.method ?? '',
        path,
        headers: meta,
        ...(meta['content-type'] !== undefined ? { contentType: meta['content-type'] } : {}),
        ...(encoding !== undefined ? { contentEncoding: encoding } : {}),
        compressed,
        wireBytes: raw.length,
        body,
        response,
      });
      if (response.hang) return;
      const json = (meta['content-type'] ?? '').includes('json');
      const answer = (): void => answerHttp(req, res, response, json);
      if (response.delayMs) state.later(response.delayMs, answer);
      else answer();
    });
  };

  const answerHttp = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    r: ScriptedResponse,
    json: boolean,
  ): void => {
    if (res.destroyed || res.writableEnded) return;
    if (r.disconnect) {
      req.socket.destroy();
      return;
    }
    const statusCode = r.httpStatus ?? 200;
    const headers: http.OutgoingHttpHeaders = { ...(r.headers ?? {}) };
    if (r.retryAfter !== undefined) headers['retry-after'] = r.retryAfter;
    let body: Buffer;
    if (r.body !== undefined) {
      body = toBuffer(r.body);
      headers['content-type'] = r.contentType ?? 'text/plain';
    } else if (statusCode >= 200 && statusCode < 300) {
      body = json
        ? Buffer.from(toOtlpJsonResponse(responseModel(r)))
        : Buffer.from(encodeExportResponse(responseModel(r)));
      headers['content-type'] = json ? 'application/json' : 'application/x-protobuf';
    } else {
      const status = { code: statusCode, message: r.message ?? http.STATUS_CODES[statusCode] ?? '' };
      body = json
        ? Buffer.from(JSON.stringify(status))
        : Buffer.from(
            encodeRpcStatus({
              ...status,
              ...(r.retryDelayMs !== undefined ? { retryDelayMs: r.retryDelayMs } : {}),
            }),
          );
      headers['content-type'] = json ? 'application/json' : 'application/x-protobuf';
    }
    headers['content-length'] = body.length;
    res.writeHead(statusCode, headers);
    res.end(body);
  };

  const makeListener = (): Listener => {
    const tls = options.tls;
    const server = tls
      ? https.createServer(
          {
            cert: tls.cert,
            key: tls.key,
            ...(tls.ca !== undefined ? { ca: tls.ca } : {}),
            requestCert: tls.requireClientCert ?? false,
            rejectUnauthorized: tls.requireClientCert ?? false,
          },
          handle,
        )
      : http.createServer(handle);
    server.keepAliveTimeout = 60_000;
    const sockets = trackSockets(server);
    server.on('tlsClientError', () => undefined);
    server.on('clientError', (_err, socket) => socket.destroy());
    return {
      listen: (port, host, path) => listenOn(server, port, host, path),
      shutdown: () => shutdownServer(server, sockets),
    };
  };

  return makeServerHandle(
    'http',
    options,
    state,
    makeListener,
    (host, port) => `${options.tls ? 'https' : 'http'}://${host}:${port}${servedPath}`,
  );
}
