import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { IngestGate } from '../receiver/ingest-gate.js';
import { handleOtlpHttpExport, OTLP_PROFILES_HTTP_PATH } from '../receiver/otlp-http-receiver.js';
import type { OtlpGrpcReceiver } from '../receiver/otlp-grpc-receiver.js';
import { startOtlpGrpcReceiver } from '../receiver/otlp-grpc-receiver.js';
import { openProfileStore } from '../store/open-profile-store.js';
import type { ProfileStore, ProfileStoreOptions } from '../store/profile-store.js';
import type { ListenAddress } from './listen-address.js';
import { formatListenAddress, isLoopback, listenHttp } from './listen-address.js';
import { QueryApi } from './query-api.js';
import { serveStatic, WEB_BUNDLE_DIR } from './static-files.js';
import { StoredEvents } from './stored-events.js';
import { errorText } from '../util/error-text.js';

/** After the drain, keep-alive connections that still linger are cut after this long. */
const CLOSE_GRACE_MS = 2_000;
const NS_PER_MS = 1_000_000n;

export interface ServeOptions {
  readonly dataDir: string;
  readonly grpc: ListenAddress;
  readonly http: ListenAddress;
  /** Keep samples this many ms (0 = keep). */
  readonly retentionMs: number;
  /** Cap on the database size (0 = none). */
  readonly maxBytes: number;
  /** OTLP request limit, compressed and decompressed. */
  readonly maxRequestBytes: number;
  readonly logger: Logger;
  /** The page's directory (default dist/web). */
  readonly webDir?: string;
  /** Opens the store (default openProfileStore); tests wrap it, e.g. in a slow disk. */
  readonly openStore?: (dir: string, options: ProfileStoreOptions) => Promise<ProfileStore>;
}

export interface ServeApp {
  readonly store: ProfileStore;
  /** `http://host:port` of the page, the API and OTLP/HTTP. */
  readonly httpUrl: string;
  readonly httpPort: number;
  /** `host:port` of OTLP/gRPC. */
  readonly grpcAddress: string;
  readonly grpcPort: number;
  /** Stops accepting, answers every request in flight (after the store made it durable), closes the store. */
  close(): Promise<void>;
}

/**
 * `serve`: opens the store in `dataDir` (refused when another process holds it), then the OTLP/gRPC
 * receiver and the HTTP server (OTLP/HTTP, the query API, live events, the page, /healthz). Resolves once
 * everything listens; a failure on the way closes what was opened and rejects with a message naming the flag.
 */
export async function startServe(options: ServeOptions): Promise<ServeApp> {
  const { logger } = options;
  for (const [flag, address] of [
    ['--grpc', options.grpc],
    ['--http', options.http],
  ] as const) {
    if (!isLoopback(address.host)) {
      logger.warn(
        `${flag} ${formatListenAddress(address.host, address.port)} is reachable from other machines and has ` +
          'no authentication: anyone who can connect can send profiles and read every stored one',
      );
    }
  }
  const store = await (options.openStore ?? openProfileStore)(options.dataDir, {
    retention: options.retentionMs,
    maxBytes: options.maxBytes,
    logger: logger.child('store'),
  });
  const events = new StoredEvents(async () => {
    const newest = (await store.stats()).newest;
    return newest === null ? null : Number(newest / NS_PER_MS);
  });
  const gate = new IngestGate(store, logger.child('receiver'), (result) => events.stored(result.samples));
  const api = new QueryApi(store);
  const webDir = options.webDir ?? WEB_BUNDLE_DIR;
  let ready = false;

  const loopbackOnly = isLoopback(options.http.host);
  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    // On loopback, only loopback names: a web page whose name was re-pointed at 127.0.0.1 (DNS rebinding)
    // must not read the profiles through the visitor's browser.
    if (loopbackOnly && !isLoopbackHostHeader(req.headers.host)) {
      res.writeHead(403, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(
        `Host "${req.headers.host ?? ''}" is not a loopback name; serve listens on loopback only ` +
          `(use 127.0.0.1, localhost or [::1], or listen elsewhere with --http)\n`,
      );
      return;
    }
    const url = new URL(req.url ?? '/', 'http://serve');
    if (url.pathname === OTLP_PROFILES_HTTP_PATH) {
      return handleOtlpHttpExport(req, res, { gate, maxRequestBytes: options.maxRequestBytes });
    }
    if (url.pathname === '/healthz') {
      res.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(ready ? 'ok\n' : 'starting\n');
      return;
    }
    if (url.pathname === '/api/events') return events.handle(req, res);
    if (url.pathname.startsWith('/api/')) return api.handle(req, res, url);
    return serveStatic(req, res, webDir);
  };
  const httpLogger = logger.child('http');
  const server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      const message = errorText(err);
      httpLogger.error('request failed', { method: req.method, path: req.url, error: message });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ error: `internal error: ${message}` }));
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  let grpc: OtlpGrpcReceiver | undefined;
  try {
    grpc = await startOtlpGrpcReceiver(options.grpc.host, options.grpc.port, {
      gate,
      maxRequestBytes: options.maxRequestBytes,
    });
    await listenHttp(server, options.http);
  } catch (err) {
    events.close();
    await grpc?.close();
    server.close();
    await store.close();
    throw err;
  }
  const httpPort = (server.address() as AddressInfo).port;
  ready = true;

  let closing: Promise<void> | undefined;
  const close = async (): Promise<void> => {
    ready = false;
    const httpClosed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    // In-flight ingests (either transport) are answered after the store has them; new ones get 503.
    await Promise.all([gate.drain(), grpc.close()]);
    events.close();
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    await httpClosed;
    clearTimeout(cut);
    await store.close();
  };
  return {
    store,
    httpUrl: `http://${formatListenAddress(connectHost(options.http.host), httpPort)}`,
    httpPort,
    grpcAddress: formatListenAddress(connectHost(options.grpc.host), grpc.port),
    grpcPort: grpc.port,
    close: () => (closing ??= close()),
  };
}

/** Whether a Host header names this machine's loopback (`127.0.0.1:4318`, `localhost`, `[::1]:4318`). */
function isLoopbackHostHeader(host: string | undefined): boolean {
  if (host === undefined) return true; // HTTP/1.0 clients (go tool pprof sends one; curl too)
  const name = /^\[([^\]]+)\](?::\d+)?$/.exec(host)?.[1] ?? host.replace(/:\d+$/, '');
  return isLoopback(name.toLowerCase());
}

/** Where a client on this machine connects to a listener bound to `host` (a wildcard is reached on loopback). */
function connectHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}
