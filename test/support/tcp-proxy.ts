import { connect, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';

/**
 * A TCP relay on 127.0.0.1 in front of another loopback port, like `socat TCP-LISTEN:…,fork
 * TCP:…` between a client and IG's daemon: `cut()` drops every relayed connection at once and stops
 * listening (a proxy or network path that went away); `restore()` listens again on the same port.
 */
export interface TcpProxy {
  readonly port: number;
  /** `tcp://127.0.0.1:PORT` (the form `--remote-address` takes). */
  readonly address: string;
  /** Connections accepted so far. */
  readonly connections: number;
  readonly listening: boolean;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let connections = 0;
  let server: Server | undefined;
  let port = 0;

  const track = (s: Socket): void => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const relay = (client: Socket): void => {
    connections++;
    track(client);
    const upstream = connect(targetPort, '127.0.0.1');
    track(upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  };
  const listen = async (): Promise<void> => {
    const s = createServer(relay);
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const cut = async (): Promise<void> => {
    const s = server;
    server = undefined;
    const closed = s ? new Promise<void>((resolve) => s.close(() => resolve())) : Promise.resolve();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await listen();

  return {
    get port() {
      return port;
    },
    get address() {
      return `tcp://127.0.0.1:${port}`;
    },
    get connections() {
      return connections;
    },
    get listening() {
      return server !== undefined;
    },
    cut,
    restore: async () => {
      if (!server) await listen();
    },
    close: cut,
  };
}
