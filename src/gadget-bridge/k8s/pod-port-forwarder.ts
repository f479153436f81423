/**
 * `kubectl port-forward` for one gadget pod: a TCP listener on 127.0.0.1:0 whose every accepted
 * connection is carried to the pod's port (8080, IG's gadget service) through the API server's
 * `pods/<pod>/portforward` subresource, using @kubernetes/client-node's `PortForward`.
 *
 * Protocol, as read in client-node 1.4.0 (dist/portforward.js, dist/web-socket-handler.js) and
 * matching the kubelet: a WebSocket offering `v5…v2.channel.k8s.io, channel.k8s.io` (the kubelet's
 * port-forward picks `v4.channel.k8s.io`); every binary message starts with a channel byte; for
 * port i the data channel is 2i and the error channel 2i+1; the server's first message on each
 * channel is the port as 2 bytes (kubelet writes little-endian; client-node just strips 2 bytes).
 * client-node sends local bytes as channel-0 messages, copies channel 0 to `output` and channel 1
 * to `err`, and closes the socket on any higher channel. v4 has no half-close, so local EOF closes
 * the WebSocket (client-node does that); the WebSocket closing ends the local connection (we do
 * that: client-node does not). One WebSocket per local connection, like kubectl's per-connection
 * streams.
 */
import { createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { PortForward } from '@kubernetes/client-node';
import type { KubeConfig } from '@kubernetes/client-node';
import type { WebSocket } from 'ws';
import type { Logger } from '../../observability/logger.js';
import { silentLogger } from '../../observability/logger.js';
import type { Counters } from '../../observability/counters.js';
import { errorText } from '../../util/error-text.js';

/** IG's gadget service port inside the gadget pod (`api.GadgetServicePort`). */
export const GADGET_SERVICE_PORT = 8080;
/** Local listener host; never a wildcard address, the forwarded API has no authentication. */
export const LOCAL_HOST = '127.0.0.1';

/** Why a forwarded connection failed. `upgrade`: the API server refused the WebSocket (RBAC, no pod). */
export type PortForwardErrorKind = 'upgrade' | 'error-channel';

/** A port-forward failure; the message names the pod, the port and (for 401/403) the fix. */
export class PortForwardError extends Error {
  override readonly name = 'PortForwardError';
  constructor(
    message: string,
    readonly kind: PortForwardErrorKind,
    readonly namespace: string,
    readonly podName: string,
    readonly port: number,
  ) {
    super(message);
  }
}

export interface PodPortForwardOptions {
  readonly kubeConfig: KubeConfig;
  readonly namespace: string;
  readonly podName: string;
  /** Default GADGET_SERVICE_PORT. */
  readonly remotePort?: number;
  readonly logger?: Logger;
  readonly counters?: Counters;
  /** Called for every failed forwarded connection (also logged and counted). */
  readonly onError?: (error: PortForwardError) => void;
}

/** A running forward; dial `address` (or host:port) to reach the pod's port. */
export interface PodPortForward {
  readonly namespace: string;
  readonly podName: string;
  /** `tcp://127.0.0.1:PORT`, IG's address form (gadgetctl `--remote-address`). */
  readonly address: string;
  readonly host: string;
  readonly port: number;
  /** Local connections currently forwarded. */
  readonly activeConnections: number;
  /** The most recent failure, if any. */
  readonly lastError: PortForwardError | undefined;
  /** Stops listening and drops every forwarded connection. */
  close(): Promise<void>;
}

/** Opens the local listener; connections are forwarded lazily, one WebSocket each. */
export async function startPodPortForward(options: PodPortForwardOptions): Promise<PodPortForward> {
  const { kubeConfig, namespace, podName } = options;
  const remotePort = options.remotePort ?? GADGET_SERVICE_PORT;
  const logger = (options.logger ?? silentLogger).child('k8s-portforward');
  const counters = options.counters;
  const forwarder = new PortForward(kubeConfig, true);
  const sockets = new Set<Socket>();
  const webSockets = new Set<WebSocket>();
  let lastError: PortForwardError | undefined;
  let closed = false;
  const label = `pod ${namespace}/${podName} port ${remotePort}`;

  const fail = (error: PortForwardError): void => {
    lastError = error;
    counters?.add('k8s_portforward_errors', 1, { pod: podName });
    logger.warn(error.message, { pod: podName, kind: error.kind });
    try {
      options.onError?.(error);
    } catch (err) {
      logger.error('port-forward onError handler threw', { pod: podName, error: errorText(err) });
    }
  };

  const forward = async (socket: Socket): Promise<void> => {
    counters?.add('k8s_portforward_connections', 1, { pod: podName });
    // Set once the WebSocket is open; the output stream below needs it for backpressure.
    const link: { ws?: WebSocket } = {};
    let paused = false;
    // client-node writes channel 0 to this and ignores write()'s result; pausing the WebSocket
    // when the local socket is full gives the download direction backpressure.
    const output = new Writable({
      write(chunk: Buffer, _enc, callback) {
        if (chunk.length > 0 && !socket.destroyed && !socket.write(chunk) && link.ws && !paused) {
          paused = true;
          link.ws.pause();
          counters?.add('k8s_portforward_backpressure_pauses', 1, { pod: podName });
        }
        callback();
      },
    });
    socket.on('drain', () => {
      if (paused && link.ws) {
        paused = false;
        link.ws.resume();
      }
    });
    const errorChunks: Buffer[] = [];
    const errStream = new Writable({
      write(chunk: Buffer, _enc, callback) {
        if (chunk.length > 0) errorChunks.push(chunk);
        callback();
      },
    });
    let result: Awaited<ReturnType<PortForward['portForward']>>;
    try {
      result = await forwarder.portForward(namespace, podName, [remotePort], output, errStream, socket);
    } catch (err) {
      const text = errorText(err);
      const status = /\b(40[134])\b/.exec(text)?.[1];
      const hint =
        status === '401' || status === '403'
          ? `; the identity in the kubeconfig needs "create" on pods/portforward in namespace ${namespace}`
          : status === '404'
            ? '; the pod is gone'
            : '';
      fail(
        new PortForwardError(
          `port-forward to ${label} failed: ${text}${hint}`,
          'upgrade',
          namespace,
          podName,
          remotePort,
        ),
      );
      socket.destroy();
      return;
    }
    // With retryCount 0 client-node returns the WebSocket itself.
    if (typeof result === 'function') throw new Error('unexpected restartable port-forward handle');
    const socketWs = result;
    link.ws = socketWs;
    webSockets.add(socketWs);
    socketWs.on('close', () => webSockets.delete(socketWs));
    if (closed) socketWs.terminate();
    socketWs.on('close', () => {
      if (errorChunks.length > 0) {
        const text = Buffer.concat(errorChunks).toString('utf8').trim();
        fail(
          new PortForwardError(
            `port-forward to ${label}: ${text}`,
            'error-channel',
            namespace,
            podName,
            remotePort,
          ),
        );
        socket.destroy();
      } else {
        socket.end();
      }
    });
    socket.on('close', () => {
      // Local side gone (EOF is handled by client-node; this covers errors and close()).
      if (socketWs.readyState === socketWs.OPEN || socketWs.readyState === socketWs.CONNECTING)
        socketWs.close();
    });
    if (socket.destroyed) socketWs.close();
  };

  const server: Server = createServer((socket) => {
    if (closed) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', (err) => logger.debug('local connection error', { pod: podName, error: err.message }));
    socket.on('close', () => sockets.delete(socket));
    forward(socket).catch((err: unknown) => {
      logger.error('port-forward connection failed unexpectedly', { pod: podName, error: errorText(err) });
      socket.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, LOCAL_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  logger.debug('port-forward listening', { pod: podName, local: `${LOCAL_HOST}:${port}`, remotePort });

  return {
    namespace,
    podName,
    address: `tcp://${LOCAL_HOST}:${port}`,
    host: LOCAL_HOST,
    port,
    get activeConnections() {
      return sockets.size;
    },
    get lastError() {
      return lastError;
    },
    async close() {
      if (closed) return;
      closed = true;
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      // Shutting down: no WebSocket close handshake with the API server, which may never answer.
      for (const ws of webSockets) ws.terminate();
      await done;
    },
  };
}
