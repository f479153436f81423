/**
 * TCP servers that stand behind the API-server double's port-forwards in the k8s tests:
 * an echo server, and a "node" speaking a trivial line protocol, plus a RowSource that reads it.
 *
 * Line protocol (server → client): `ROW <text>` lines, each one batch of one row; the client sends
 * `STOP\n` to ask for a final flush, the server answers `FINAL <node>` and ends the connection.
 */
import { createServer, connect } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import type { RowBatch, RowSource } from '../../src/rows/row-batch.js';
import { PROFILE_CPU_SPEC } from '../../src/gadget-bridge/profile-presets.js';
import { gadgetRow } from '../../src/rows/gadget-row.js';

export interface TcpFixture {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

async function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of sockets) s.destroy();
    await closed;
  };
}

/** Echoes every byte back; ends its side when the client ends. */
export async function startEchoServer(): Promise<TcpFixture> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const port = await listen(server, sockets);
  return {
    port,
    get connections() {
      return connections;
    },
    close: closer(server, sockets),
  };
}

export interface LineNode extends TcpFixture {
  /** Sends `ROW <text>` to every connected client. */
  emit(text: string): void;
  /** Connected clients now. */
  readonly clients: number;
}

/** A fake per-node gadget service speaking the line protocol above. */
export async function startLineNode(node: string): Promise<LineNode> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let connections = 0;
  const server = createServer((s) => {
    connections++;
    clients.add(s);
    s.on('close', () => clients.delete(s));
    s.on('error', () => undefined);
    const lines = createInterface({ input: s });
    lines.on('line', (line) => {
      if (line === 'STOP') {
        s.end(`FINAL ${node}\n`);
        clients.delete(s);
      }
    });
    s.write(`ROW ${node} hello\n`);
  });
  const port = await listen(server, sockets);
  return {
    port,
    get connections() {
      return connections;
    },
    get clients() {
      return clients.size;
    },
    emit(text) {
      for (const c of clients) c.write(`ROW ${text}\n`);
    },
    close: closer(server, sockets),
  };
}

/** Parses `tcp://host:port`. */
export function parseTcpAddress(address: string): { host: string; port: number } {
  const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
  if (!m) throw new Error(`not a tcp:// address: ${address}`);
  return { host: m[1]!, port: Number(m[2]) };
}

/**
 * A RowSource over the line protocol: each `ROW x` / `FINAL x` line becomes one batch with one row
 * `{ line: x, kind: 'row'|'final' }`; `origin` is the given label. It ends when the server ends the
 * connection and throws when the connection fails before any `FINAL`.
 */
export function createLineRowSource(address: string, label: string): RowSource {
  const { host, port } = parseTcpAddress(address);
  let socket: Socket | undefined;
  let stopRequested = false;
  return {
    async *batches(): AsyncGenerator<RowBatch> {
      const s = connect(port, host);
      socket = s;
      if (stopRequested) s.write('STOP\n');
      let failed: Error | undefined;
      s.on('error', (err) => {
        failed = err;
      });
      let sawFinal = false;
      let seq = 0;
      const lines = createInterface({ input: s });
      for await (const line of lines) {
        const m = /^(ROW|FINAL) (.*)$/.exec(line);
        if (!m) continue;
        const kind = m[1] === 'FINAL' ? 'final' : 'row';
        if (kind === 'final') sawFinal = true;
        const now = BigInt(Date.now()) * 1_000_000n;
        yield {
          spec: PROFILE_CPU_SPEC,
          rows: [gadgetRow({ line: m[2]!, kind })],
          windowStartUnixNano: now,
          windowEndUnixNano: now,
          origin: `${label} seq ${++seq}`,
        };
      }
      if (failed && !sawFinal) throw failed;
      if (!sawFinal && !stopRequested) throw new Error(`${label}: connection ended without FINAL`);
    },
    stop() {
      stopRequested = true;
      if (socket && !socket.destroyed && socket.writable) socket.write('STOP\n');
      return Promise.resolve();
    },
  };
}

/** Polls until `check` returns true (or throws after `timeoutMs`, naming `what`). */
export async function waitFor(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
