import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';

/**
 * A small OTLP/HTTP profiles receiver on loopback for the delivery benchmarks: accepts
 * `POST /v1development/profiles` (protobuf, gzip or not), counts requests, profiles and samples
 * by walking the protobuf wire format (no full decode, so the benchmark's own process stays
 * light), and answers 200 with an empty ExportProfilesServiceResponse. `setDown(true)` closes
 * the listening socket and every open connection, so the exporter sees connection refused —
 * a backend outage — until `setDown(false)` listens on the same port again.
 */

/** Path the OTLP/HTTP profiles signal is posted to. */
export const PROFILES_PATH = '/v1development/profiles';

export interface SinkStats {
  readonly requests: number;
  readonly profiles: number;
  readonly samples: number;
  /** Uncompressed protobuf bytes received. */
  readonly bytes: number;
  /** Bodies that could not be read as a request (should stay 0). */
  readonly malformed: number;
}

export interface OtlpSinkServer {
  readonly port: number;
  /** Full URL of the profiles endpoint. */
  readonly url: string;
  setDown(down: boolean): Promise<void>;
  stats(): SinkStats;
  close(): Promise<void>;
}

/** Reads a varint at `pos`; returns [value, next position]. Values here fit in 2^53. */
function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++] as number;
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, pos];
    scale *= 128;
  }
}

/** Calls `onField(fieldNumber, start, end)` for every length-delimited field of a message. */
function eachLengthDelimited(
  buf: Uint8Array,
  start: number,
  end: number,
  onField: (field: number, from: number, to: number) => void,
): void {
  let pos = start;
  while (pos < end) {
    const [tag, afterTag] = readVarint(buf, pos);
    pos = afterTag;
    const wire = tag & 7;
    const field = Math.floor(tag / 8);
    if (wire === 0) pos = readVarint(buf, pos)[1];
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const [len, afterLen] = readVarint(buf, pos);
      onField(field, afterLen, afterLen + len);
      pos = afterLen + len;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  if (pos !== end) throw new Error('message overruns its length');
}

/**
 * Profiles and samples in an ExportProfilesServiceRequest: resource_profiles = 1 →
 * scope_profiles = 2 → profiles = 2 → samples = 2 (profiles.proto, v1.11.0).
 */
export function countProfilesAndSamples(body: Uint8Array): { profiles: number; samples: number } {
  let profiles = 0;
  let samples = 0;
  eachLengthDelimited(body, 0, body.length, (f1, s1, e1) => {
    if (f1 !== 1) return;
    eachLengthDelimited(body, s1, e1, (f2, s2, e2) => {
      if (f2 !== 2) return;
      eachLengthDelimited(body, s2, e2, (f3, s3, e3) => {
        if (f3 !== 2) return;
        profiles++;
        eachLengthDelimited(body, s3, e3, (f4) => {
          if (f4 === 2) samples++;
        });
      });
    });
  });
  return { profiles, samples };
}

export async function startOtlpSinkServer(port = 0): Promise<OtlpSinkServer> {
  let requests = 0;
  let profiles = 0;
  let samples = 0;
  let bytes = 0;
  let malformed = 0;
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== PROFILES_PATH) {
        res.writeHead(404).end();
        return;
      }
      try {
        const raw = Buffer.concat(chunks);
        const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
        const counted = countProfilesAndSamples(body);
        requests++;
        profiles += counted.profiles;
        samples += counted.samples;
        bytes += body.length;
        res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': '0' }).end();
      } catch {
        malformed++;
        res.writeHead(400).end();
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  const listen = (p: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(p, '127.0.0.1', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!server.listening) {
        resolve();
        return;
      }
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });

  const boundPort = await listen(port);
  let down = false;
  return {
    port: boundPort,
    url: `http://127.0.0.1:${boundPort}${PROFILES_PATH}`,
    async setDown(value) {
      if (value === down) return;
      down = value;
      if (value) await stop();
      else await listen(boundPort);
    },
    stats: () => ({ requests, profiles, samples, bytes, malformed }),
    close: stop,
  };
}
