import type { Server } from 'node:http';

/** `HOST:PORT` of a listener flag (`--grpc`, `--http`); IPv6 hosts in brackets: `[::1]:4318`. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** Parses `HOST:PORT`; throws an Error naming the flag and the expected form. */
export function parseListenAddress(value: string, flag: string): ListenAddress {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || port > 65535) {
    throw new Error(
      `${flag} ${JSON.stringify(value)}: expected HOST:PORT, e.g. 127.0.0.1:4318, 0.0.0.0:4318 or [::1]:4318`,
    );
  }
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** Whether only this machine can connect (everything else gets a "no authentication" warning). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^(?:::ffff:)?127\.\d+\.\d+\.\d+$/i.test(host);
}

export function formatListenAddress(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Starts `server` on the `--http` address; a failure names the flag and the fix. */
export function listenHttp(server: Server, address: ListenAddress): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(
        new Error(
          `--http ${formatListenAddress(address.host, address.port)}: cannot listen ` +
            `(${err.message}); pick another address with --http`,
        ),
      ),
    );
    server.listen(address.port, address.host, resolve);
  });
}
