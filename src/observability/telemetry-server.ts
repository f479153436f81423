import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { EventLoopWatch } from './event-loop-watch.js';
import { watchEventLoop } from './event-loop-watch.js';
import type { Logger } from './logger.js';
import { createSessionMetrics } from './metrics-registry.js';
import type { SessionStatus } from './session-status.js';
import { errorText } from '../util/error-text.js';

/**
 * `--telemetry-address`: GET /metrics (Prometheus text, or OpenMetrics when the Accept header asks
 * for it), /healthz (the process and its event loop are alive) and /readyz (input connected, no
 * exporter failing for good), with a one-line reason on a 503.
 */

/** A scrape or probe that has not sent its request by then is cut (slowloris). */
const REQUEST_TIMEOUT_MS = 10_000;

export interface TelemetryServer {
  /** `host:port` actually bound (port 0 resolved). */
  readonly address: string;
  close(): Promise<void>;
}

export interface TelemetryServerOptions {
  /** Host `undefined` = every interface; text as configured, for messages. */
  readonly address: { readonly host?: string; readonly port: number; readonly text: string };
  readonly status: SessionStatus;
  readonly logger: Logger;
  /** Tests: a shorter stall bound. */
  readonly loopWatch?: EventLoopWatch;
}

function reply(
  res: ServerResponse,
  code: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
): void {
  res.writeHead(code, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

export async function startTelemetryServer(options: TelemetryServerOptions): Promise<TelemetryServer> {
  const { status, logger } = options;
  const metrics = createSessionMetrics(status);
  const loop = options.loopWatch ?? watchEventLoop();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return reply(res, 405, 'only GET\n');
    }
    switch (path) {
      case '/metrics': {
        const { contentType, body } = await metrics.scrape(req.headers.accept);
        return reply(res, 200, body, contentType);
      }
      case '/healthz': {
        const live = loop.liveness();
        return live.alive ? reply(res, 200, 'ok\n') : reply(res, 503, `${live.reason}\n`);
      }
      case '/readyz': {
        const ready = status.readiness();
        if (!ready.ready) return reply(res, 503, `${ready.reason}\n`);
        return reply(res, 200, ready.detail !== undefined ? `ready\n${ready.detail}\n` : 'ready\n');
      }
      default:
        return reply(res, 404, 'not found: GET /metrics, /healthz or /readyz\n');
    }
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.warn(`${req.url ?? ''} failed: ${errorText(err)}`);
      if (!res.headersSent) reply(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  const { host, port, text } = options.address;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error) => {
      loop.stop();
      reject(
        new Error(
          `--telemetry-address ${text}: cannot listen (${err.message}): choose another address or port`,
        ),
      );
    });
    server.listen({ port, ...(host !== undefined ? { host } : {}) }, () => resolve());
  });
  // Serving scrapes must not keep a finished run alive.
  server.unref();
  const bound = server.address();
  const address =
    bound !== null && typeof bound === 'object'
      ? `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
      : text;
  logger.info(`serving /metrics, /healthz and /readyz on http://${address}`);
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        loop.stop();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
