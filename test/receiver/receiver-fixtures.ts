/** Clients that speak the OTLP wire protocols byte for byte, for requests our exporter would never send. */
import * as grpc from '@grpc/grpc-js';
import { gzipSync } from 'node:zlib';
import { OTLP_PROFILES_GRPC_METHOD } from '../../src/exporter/transport/otlp-grpc-transport.js';
import type { RpcStatus } from '../../src/exporter/transport/rpc-status.js';
import { decodeRpcStatus } from '../../src/exporter/transport/rpc-status.js';

export interface HttpReply {
  readonly status: number;
  readonly contentType: string;
  readonly retryAfter: string | null;
  readonly body: Buffer;
}

/** POSTs raw bytes to OTLP/HTTP. */
export async function postOtlp(
  base: string,
  body: Uint8Array,
  options: { contentType?: string; gzip?: boolean; headers?: Record<string, string> } = {},
): Promise<HttpReply> {
  const res = await fetch(`${base}/v1development/profiles`, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-protobuf',
      ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
      ...options.headers,
    },
    body: options.gzip ? gzipSync(body) : body,
  });
  return {
    status: res.status,
    contentType: res.headers.get('content-type') ?? '',
    retryAfter: res.headers.get('retry-after'),
    body: Buffer.from(await res.arrayBuffer()),
  };
}

/** The google.rpc.Status of an error reply, in either encoding. */
export function replyStatus(reply: HttpReply): { code: number; message: string } {
  if (reply.contentType.includes('json')) return JSON.parse(reply.body.toString('utf8')) as RpcStatus;
  return decodeRpcStatus(reply.body);
}

export interface GrpcReply {
  readonly code: number;
  readonly details: string;
  readonly status?: RpcStatus;
  readonly response?: Buffer;
}

/** One unary Export call with raw message bytes (optionally gzip-compressed by grpc-js). */
export function grpcExport(
  address: string,
  message: Uint8Array,
  options: { gzip?: boolean } = {},
): Promise<GrpcReply> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure(), {
    ...(options.gzip ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
  });
  return new Promise<GrpcReply>((resolve) => {
    client.makeUnaryRequest(
      OTLP_PROFILES_GRPC_METHOD,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.from(message),
      (err, response) => {
        client.close();
        if (!err) {
          resolve({ code: 0, details: '', response: response ?? Buffer.alloc(0) });
          return;
        }
        const bin = err.metadata?.get('grpc-status-details-bin')[0];
        resolve({
          code: err.code,
          details: err.details,
          ...(bin instanceof Buffer ? { status: decodeRpcStatus(bin) } : {}),
        });
      },
    );
  });
}
