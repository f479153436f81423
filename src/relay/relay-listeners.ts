import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import type { IngestGate } from '../receiver/ingest-gate.js';
import { startOtlpGrpcReceiver } from '../receiver/otlp-grpc-receiver.js';
import { handleOtlpHttpExport, OTLP_PROFILES_HTTP_PATH } from '../receiver/otlp-http-receiver.js';
import type { decodeBody } from '../receiver/request-body.js';
import type { ListenAddress } from '../serve/listen-address.js';
import { formatListenAddress, listenHttp } from '../serve/listen-address.js';
import { errorText } from '../util/error-text.js';

export interface RelayListenerOptions {
  readonly grpc: ListenAddress;
  readonly http: ListenAddress;
  readonly gate: IngestGate;
  readonly decode: typeof decodeBody;
  readonly maxRequestBytes: number;
  readonly logger: Logger;
  /** An OTLP/HTTP request refused before its body reached the decoder (413, 415, bad gzip, not POST). */
  readonly onRefusedBeforeDecode: () => void;
}

export interface RelayListeners {
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** Stops accepting; resolves once every request in flight is answered. */
  close(): Promise<void>;
}

/**
 * relay's two OTLP fronts, the receivers serve uses with relay's decoder and sink: OTLP/gRPC, and
 * OTLP/HTTP answering only `POST /v1development/profiles` (and `/healthz` for probes).
 */
export async function startRelayListeners(options: RelayListenerOptions): Promise<RelayListeners> {
  const { gate, decode, maxRequestBytes, logger } = options;
  const grpc = await startOtlpGrpcReceiver(options.grpc.host, options.grpc.port, {
    gate,
    decode,
    maxRequestBytes,
  });
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://relay').pathname;
    if (path === OTLP_PROFILES_HTTP_PATH) {
      let decoded = false;
      const decodeOnce: typeof decodeBody = (bytes, format) => {
        decoded = true;
        return decode(bytes, format);
      };
      // Refusals after decoding are counted by the decoder and the sink; the ones before it here.
      res.once('finish', () => {
        if (!decoded && res.statusCode >= 400 && res.statusCode !== 503) options.onRefusedBeforeDecode();
      });
      handleOtlpHttpExport(req, res, { gate, decode: decodeOnce, maxRequestBytes }).catch((err: unknown) => {
        logger.error('request failed', { error: errorText(err) });
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      });
      return;
    }
    const known = path === '/healthz';
    res.writeHead(known ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(known ? 'ok\n' : `relay answers only POST ${OTLP_PROFILES_HTTP_PATH}\n`);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  try {
    await listenHttp(server, options.http);
  } catch (err) {
    await grpc.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  return {
    grpcAddress: grpc.address,
    httpAddress: formatListenAddress(options.http.host, port),
    close: async () => {
      await Promise.all([
        grpc.close(),
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        }),
      ]);
    },
  };
}
