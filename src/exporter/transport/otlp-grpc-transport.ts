import * as grpc from '@grpc/grpc-js';
import type { ExporterConfig } from '../../config/exporter-config.js';
import { grpcMetadataProblem } from '../../config/header-rules.js';
import { createGrpcTlsCredentials } from '../../util/grpc-tls-credentials.js';
import type { Logger } from '../../observability/logger.js';
import { USER_AGENT } from '../../util/version.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';
import type { LongTimeout } from '../../util/long-timeout.js';
import { MAX_TIMER_DELAY_MS, setLongTimeout } from '../../util/long-timeout.js';
import { decodeExportResponse } from '../../profiles/encoding/decode-request.js';
import { successFromExportResponse } from './partial-success.js';
import { classifyGrpcError } from './grpc-status-classifier.js';
import { exporterConfigKey } from './config-key.js';
import { hasTlsSettings, loadTlsFiles } from './tls-files.js';
import type { ExporterDeps } from '../exporter-deps.js';
import { errorText } from '../../util/error-text.js';

/** Full gRPC method name of OTLP profiles export (opentelemetry-proto v1.11.0). */
export const OTLP_PROFILES_GRPC_METHOD =
  '/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export';

/**
 * Response cap (OTLP: the client MUST cap responses; 4 MiB is the spec's example). Deliberately 1 KiB
 * over 4 MiB, so our own "Received message larger than max (… vs 4195328)" can never be confused
 * with a server refusing our *request* at the common 4 MiB (4194304) receive limit.
 */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024 + 1024;

/** Lowest client send limit: the OTLP recommended 64 MiB request cap (the splitter stays far below). */
const MIN_SEND_LIMIT_BYTES = 64 * 1024 * 1024;

const identity = (value: Buffer): Buffer => value;

/**
 * OTLP/gRPC exporter transport: one unary `Export` call per send, with the batch's protobuf bytes as
 * the message (no re-encoding). `config.endpoint` is `host:port` or `unix:/path`. TLS unless
 * `config.insecure`; TLS files are read and checked here, so a misconfiguration throws at creation.
 * Every send settles within `timeoutMs` (gRPC deadline) and never throws.
 */
export function createOtlpGrpcTransport(config: ExporterConfig, deps: ExporterDeps): ExporterTransport {
  const logger = deps.logger.child(`otlp-grpc/${config.name}`);
  const target = grpcTarget(config);
  const description = `otlp-grpc ${target}`;

  let credentials: grpc.ChannelCredentials;
  const options: grpc.ChannelOptions = {
    'grpc.primary_user_agent': USER_AGENT,
    'grpc.max_send_message_length': Math.max(MIN_SEND_LIMIT_BYTES, config.batch.maxRequestBytes),
    'grpc.max_receive_message_length': MAX_RESPONSE_BYTES,
  };
  if (config.compression === 'gzip')
    options['grpc.default_compression_algorithm'] = grpc.compressionAlgorithms.gzip;
  if (config.insecure) {
    if (hasTlsSettings(config.tls)) {
      logger.warn('insecure is set: the tls.* settings of this exporter are ignored', {
        exporter: config.name,
      });
    }
    credentials = grpc.credentials.createInsecure();
  } else {
    const tls = loadTlsFiles(config.tls, config.name);
    credentials = createGrpcTlsCredentials(tls);
    if (tls.serverName) options['grpc.default_authority'] = tls.serverName;
  }
  const metadata = metadataOf(config);
  const client = new grpc.Client(target, credentials, options);
  let closed = false;

  const send = (batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> => {
    if (closed)
      return Promise.resolve({
        status: 'failure',
        error: new Error(`${description}: transport is shut down`),
      });
    const message = Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    // timeout 0 = no limit (OTLP: "0 SHOULD mean no limit").
    const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
    // grpc-js compresses inside the channel: only the raw size is known here.
    deps.counters.add('export_attempt_raw_bytes', message.length, { exporter: config.name });
    return new Promise<ExportResponse>((resolve) => {
      let settled = false;
      let guard: LongTimeout | undefined;
      const finish = (response: ExportResponse): void => {
        if (settled) return;
        settled = true;
        guard?.clear();
        deps.counters.add('export_attempts', 1, { exporter: config.name, outcome: response.status });
        if (response.status !== 'success') {
          logger.debug('export attempt failed', {
            batch: batch.id,
            status: response.status,
            error: response.error.message,
          });
        }
        resolve(response);
      };
      try {
        const call = client.makeUnaryRequest<Buffer, Buffer>(
          OTLP_PROFILES_GRPC_METHOD,
          identity,
          identity,
          message,
          metadata.clone(),
          { deadline },
          (err, value) => {
            if (err) {
              const bin = err.metadata?.get('grpc-status-details-bin')[0];
              finish(
                classifyGrpcError(
                  {
                    code: err.code,
                    details: err.details,
                    ...(Buffer.isBuffer(bin) ? { statusDetails: bin } : {}),
                  },
                  { target: description, responseLimitBytes: MAX_RESPONSE_BYTES },
                ),
              );
              return;
            }
            finish(decodeSuccess(value, batch, logger));
          },
        );
        // grpc-js enforces a deadline only up to 2^31−1 ms ahead (a farther one is sent to the
        // server but never fires here), so a longer timeout gets its own timer.
        if (timeoutMs > MAX_TIMER_DELAY_MS) {
          guard = setLongTimeout(() => {
            finish(
              classifyGrpcError(
                { code: grpc.status.DEADLINE_EXCEEDED, details: `Deadline exceeded after ${timeoutMs} ms` },
                { target: description, responseLimitBytes: MAX_RESPONSE_BYTES },
              ),
            );
            call.cancel();
          }, timeoutMs).unref();
        }
      } catch (err) {
        // grpc-js throws synchronously only for programming errors (e.g. a closed channel).
        finish({
          status: 'failure',
          error: new Error(`${description}: ${errorText(err)}`),
        });
      }
    });
  };

  return {
    description,
    send,
    shutdown: () => {
      closed = true;
      client.close();
      return Promise.resolve();
    },
  };
}

/** `host:port` / `unix:/path`; tolerates a leftover `http(s)://` scheme or path from hand-built configs. */
function grpcTarget(config: ExporterConfig): string {
  const endpoint = config.endpoint?.trim();
  if (!endpoint) {
    throw new Error(
      `${exporterConfigKey(config.name, 'endpoint')}: required for otlp-grpc (e.g. collector:4317)`,
    );
  }
  const m = /^https?:\/\/([^/]+)\/?.*$/i.exec(endpoint);
  return m?.[1] ?? endpoint;
}

function decodeSuccess(value: Buffer | undefined, batch: ExportBatch, logger: Logger): ExportResponse {
  if (!value || value.length === 0) return { status: 'success' };
  try {
    return successFromExportResponse(decodeExportResponse(value));
  } catch (err) {
    // The server said OK: the data is delivered even if its response is garbage.
    logger.warn('OK response is not an ExportProfilesServiceResponse; treated as full success', {
      batch: batch.id,
      error: errorText(err),
    });
    return { status: 'success' };
  }
}

/** config.headers as gRPC metadata (the configuration already refused bad ones). */
function metadataOf(config: ExporterConfig): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(config.headers)) {
    const problem = grpcMetadataProblem(name, value);
    if (problem !== undefined) throw new Error(`${exporterConfigKey(config.name, 'headers')}: ${problem}`);
    const key = name.trim().toLowerCase();
    // Binary headers ("-bin") carry base64 in configuration, bytes on the wire.
    metadata.add(key, key.endsWith('-bin') ? Buffer.from(value.trim(), 'base64') : value);
  }
  return metadata;
}
