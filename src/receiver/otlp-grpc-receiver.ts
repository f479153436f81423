import * as grpc from '@grpc/grpc-js';
import { encodeExportResponse } from '../profiles/encoding/decode-request.js';
import { encodeRpcStatus } from '../exporter/transport/rpc-status.js';
import { OTLP_PROFILES_GRPC_METHOD } from '../exporter/transport/otlp-grpc-transport.js';
import { decodeBody } from './request-body.js';
import type { IngestGate } from './ingest-gate.js';
import { outcomeStatus, successResponse } from './outcome-status.js';
import { errorText } from '../util/error-text.js';

const identity = (value: Buffer): Buffer => value;

/** ProfilesService/Export with the message bytes left undecoded: we decode with our own decoder. */
const PROFILES_SERVICE: grpc.ServiceDefinition = {
  Export: {
    path: OTLP_PROFILES_GRPC_METHOD,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};

export interface OtlpGrpcReceiverOptions {
  readonly gate: IngestGate;
  /** grpc-js enforces it on the decompressed message too (RESOURCE_EXHAUSTED, like grpc-go). */
  readonly maxRequestBytes: number;
  /** Decodes a (decompressed) body; relay passes one that first reads the Sample layout (default decodeBody). */
  readonly decode?: typeof decodeBody;
}

export interface OtlpGrpcReceiver {
  /** `host:port` as bound (the real port when 0 was asked). */
  readonly address: string;
  readonly port: number;
  /** Stops accepting calls; resolves once the calls in progress have been answered. */
  close(): Promise<void>;
}

/**
 * The OTLP/gRPC profiles receiver: a grpc-js server (gzip and deflate messages are inflated by grpc-js
 * within the size limit) whose Export answers only once the store has made the request durable. Errors
 * carry a google.rpc.Status in grpc-status-details-bin, with RetryInfo on UNAVAILABLE.
 */
export async function startOtlpGrpcReceiver(
  host: string,
  port: number,
  options: OtlpGrpcReceiverOptions,
): Promise<OtlpGrpcReceiver> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxRequestBytes,
    'grpc.max_send_message_length': 4 * 1024 * 1024,
  });
  server.addService(PROFILES_SERVICE, {
    Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      void exportCall(call.request, options).then(
        (answer) => (answer.error ? callback(answer.error) : callback(null, answer.response)),
        (err: unknown) => callback({ code: grpc.status.INTERNAL, details: errorText(err) }),
      );
    },
  });
  const hostPart = host.includes(':') ? `[${host}]` : host;
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${hostPart}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
      err
        ? reject(
            new Error(
              `--grpc ${host}:${port}: cannot listen (${err.message}); pick another address with --grpc`,
            ),
          )
        : resolve(p),
    ),
  );
  return {
    address: `${hostPart}:${bound}`,
    port: bound,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

async function exportCall(
  message: Buffer,
  { gate, decode = decodeBody }: OtlpGrpcReceiverOptions,
): Promise<{ error?: Partial<grpc.StatusObject>; response?: Buffer }> {
  const decoded = decode(message, 'protobuf');
  const outcome = decoded.kind === 'ok' ? await gate.ingest(decoded.request) : decoded;
  if (outcome.kind === 'stored') {
    return { response: Buffer.from(encodeExportResponse(successResponse(outcome.result))) };
  }
  const status = outcomeStatus(outcome);
  const metadata = new grpc.Metadata();
  metadata.set(
    'grpc-status-details-bin',
    Buffer.from(
      encodeRpcStatus({
        code: status.rpcCode,
        message: status.message,
        ...(status.retryAfterMs !== undefined ? { retryDelayMs: status.retryAfterMs } : {}),
      }),
    ),
  );
  return { error: { code: status.rpcCode, details: status.message, metadata } };
}
