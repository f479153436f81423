import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gunzipSync, gzip } from 'node:zlib';
import type { ExporterConfig } from '../../config/exporter-config.js';
import { httpHeaderProblem } from '../../config/header-rules.js';
import { USER_AGENT } from '../../util/version.js';
import { toOtlpJson } from '../../profiles/encoding/otlp-json.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterTransport } from '../exporter-transport.js';
import type { LongTimeout } from '../../util/long-timeout.js';
import { setLongTimeout } from '../../util/long-timeout.js';
import { decodeExportResponse } from '../../profiles/encoding/decode-request.js';
import { fromOtlpJsonResponse } from '../../profiles/encoding/otlp-json.js';
import { successFromExportResponse } from './partial-success.js';
import { classifyHttpErrorResponse, classifyHttpNetworkError } from './http-status-classifier.js';
import { exporterConfigKey } from './config-key.js';
import { serverNameOptions } from '../../util/tls-server-name.js';
import { hasTlsSettings, loadTlsFiles } from './tls-files.js';
import type { ExporterDeps } from '../exporter-deps.js';
import { errorText } from '../../util/error-text.js';

/**
 * Response cap (OTLP: the client MUST cap responses, 4 MiB is fine). Over it, the rest is not read and
 * the status code decides: a 2xx still means the data was accepted.
 */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** Idle keep-alive sockets are closed after this long (below common server idle timeouts). */
const KEEP_ALIVE_IDLE_MS = 30_000;

const gzipAsync = promisify(gzip);

/** A network-level error with the Node-style `code`. */
type CodedError = Error & { code?: string };

/**
 * OTLP/HTTP exporter transport: one POST per send to `config.endpoint` (the full URL; the config layer
 * already appended `/v1development/profiles` where the OTLP rules say so), over a keep-alive agent.
 * Body: the batch's protobuf bytes, or OTLP/JSON when `config.protocol` is `json`; gzip when configured.
 * TLS files are read and checked here, so a misconfiguration throws at creation. Every send settles
 * within `timeoutMs` and never throws; header values never appear in errors or the description.
 */
export function createOtlpHttpTransport(config: ExporterConfig, deps: ExporterDeps): ExporterTransport {
  const logger = deps.logger.child(`otlp-http/${config.name}`);
  const url = endpointUrl(config);
  const description = `otlp-http ${url.origin}${url.pathname}`;
  const secure = url.protocol === 'https:';

  let agent: http.Agent;
  let serverName: string | undefined;
  if (secure) {
    const tls = loadTlsFiles(config.tls, config.name);
    serverName = tls.serverName;
    agent = new https.Agent({
      keepAlive: true,
      timeout: KEEP_ALIVE_IDLE_MS,
      ...(tls.ca ? { ca: tls.ca } : {}),
      ...(tls.cert ? { cert: tls.cert } : {}),
      ...(tls.key ? { key: tls.key } : {}),
    });
  } else {
    if (hasTlsSettings(config.tls)) {
      logger.warn('the endpoint is http://, so the tls.* settings of this exporter are ignored', {
        exporter: config.name,
      });
    }
    agent = new http.Agent({ keepAlive: true, timeout: KEEP_ALIVE_IDLE_MS });
  }
  const userHeaders = validatedHeaders(config);
  const contentType = config.protocol === 'json' ? 'application/json' : 'application/x-protobuf';
  let closed = false;

  const encodeBody = async (batch: ExportBatch): Promise<Buffer> => {
    const raw =
      config.protocol === 'json'
        ? Buffer.from(toOtlpJson(batch.request(), { bytesEncoding: config.jsonBytes }), 'utf8')
        : Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength);
    deps.counters.add('export_attempt_raw_bytes', raw.length, { exporter: config.name });
    return config.compression === 'gzip' ? await gzipAsync(raw) : raw;
  };

  const send = async (batch: ExportBatch, timeoutMs: number): Promise<ExportResponse> => {
    if (closed) return { status: 'failure', error: new Error(`${description}: transport is shut down`) };
    let body: Buffer;
    try {
      body = await encodeBody(batch);
    } catch (err) {
      return {
        status: 'failure',
        error: new Error(`${description}: cannot encode batch ${batch.id}: ${errorText(err)}`),
      };
    }
    deps.counters.add('export_attempt_bytes', body.length, { exporter: config.name });
    const response = await post(body, timeoutMs, batch);
    deps.counters.add('export_attempts', 1, { exporter: config.name, outcome: response.status });
    if (response.status !== 'success') {
      logger.debug('export attempt failed', {
        batch: batch.id,
        status: response.status,
        error: response.error.message,
      });
    }
    return response;
  };

  const post = (body: Buffer, timeoutMs: number, batch: ExportBatch): Promise<ExportResponse> =>
    new Promise<ExportResponse>((resolve) => {
      let settled = false;
      let timer: LongTimeout | undefined;
      const settle = (response: ExportResponse): void => {
        if (settled) return;
        settled = true;
        timer?.clear();
        resolve(response);
      };
      const headers: http.OutgoingHttpHeaders = {
        'user-agent': USER_AGENT,
        ...userHeaders,
        'content-type': contentType,
        'content-length': body.length,
        ...(config.compression === 'gzip' ? { 'content-encoding': 'gzip' } : {}),
      };
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request(url, {
          method: 'POST',
          agent,
          headers,
          ...(serverName ? serverNameOptions(serverName) : {}),
        });
      } catch (err) {
        settle(classifyHttpNetworkError(err as CodedError, { target: description }));
        return;
      }
      if (timeoutMs > 0) {
        // Bounds the whole attempt (connect, TLS, upload, response body), not just socket idleness.
        timer = setLongTimeout(() => {
          const err: CodedError = new Error(`no complete response within ${timeoutMs} ms`);
          err.code = 'ETIMEDOUT';
          settle(classifyHttpNetworkError(err, { target: description }));
          req.destroy(err);
        }, timeoutMs);
        timer.unref();
      }
      req.on('error', (err: CodedError) => settle(classifyHttpNetworkError(err, { target: description })));
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) {
            settle(overCap(res, Buffer.concat(chunks), batch));
            res.destroy();
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err: CodedError) => settle(classifyHttpNetworkError(err, { target: description })));
        res.on('aborted', () =>
          settle(
            classifyHttpNetworkError(
              Object.assign(new Error('connection closed mid-response'), { code: 'ECONNRESET' }),
              { target: description },
            ),
          ),
        );
        res.on('end', () => {
          if (settled) return;
          let payload: Buffer = Buffer.concat(chunks);
          const encoding = String(res.headers['content-encoding'] ?? '').toLowerCase();
          if (encoding === 'gzip' && payload.length > 0) {
            try {
              payload = gunzipSync(payload, { maxOutputLength: MAX_RESPONSE_BYTES });
            } catch (err) {
              settle(
                overCap(
                  res,
                  Buffer.alloc(0),
                  batch,
                  `it does not decompress within the cap: ${errorText(err)}`,
                ),
              );
              return;
            }
          }
          settle(interpret(res, payload, batch));
        });
      });
      req.end(body);
    });

  /**
   * A response body over the cap, not read further: a 2xx is a delivery (with a warning, as the
   * partial-success details are unknown); any other status is classified by its code from what was read.
   */
  const overCap = (
    res: http.IncomingMessage,
    head: Buffer,
    batch: ExportBatch,
    why?: string,
  ): ExportResponse => {
    const statusCode = res.statusCode ?? 0;
    const problem = why ?? `it is larger than the ${MAX_RESPONSE_BYTES}-byte cap`;
    if (statusCode >= 200 && statusCode < 300) {
      return {
        status: 'success',
        message: `HTTP ${statusCode} response body not read (${problem}); the data was accepted, any partial-success details are unknown`,
      };
    }
    // A compressed head cannot be quoted; the status code alone decides then.
    return interpret(res, res.headers['content-encoding'] ? Buffer.alloc(0) : head, batch);
  };

  const interpret = (res: http.IncomingMessage, payload: Buffer, batch: ExportBatch): ExportResponse => {
    const statusCode = res.statusCode ?? 0;
    const type = res.headers['content-type'];
    if (statusCode >= 200 && statusCode < 300) return decodeSuccess(payload, type, batch);
    const retryAfter = res.headers['retry-after'];
    return classifyHttpErrorResponse(
      {
        statusCode,
        body: payload,
        ...(retryAfter !== undefined ? { retryAfter } : {}),
        ...(type !== undefined ? { contentType: type } : {}),
      },
      { target: description },
    );
  };

  const decodeSuccess = (payload: Buffer, type: string | undefined, batch: ExportBatch): ExportResponse => {
    if (payload.length === 0) return { status: 'success' };
    try {
      const decoded = (type ?? '').toLowerCase().includes('json')
        ? fromOtlpJsonResponse(payload.toString('utf8'))
        : decodeExportResponse(payload);
      return successFromExportResponse(decoded);
    } catch (err) {
      // A 2xx means the data was accepted even if the body is not what OTLP prescribes.
      logger.warn('2xx response is not an ExportProfilesServiceResponse; treated as full success', {
        batch: batch.id,
        contentType: type ?? '',
        error: errorText(err),
      });
      return { status: 'success' };
    }
  };

  return {
    description,
    send,
    shutdown: () => {
      closed = true;
      agent.destroy();
      return Promise.resolve();
    },
  };
}

function endpointUrl(config: ExporterConfig): URL {
  const endpoint = config.endpoint?.trim();
  if (!endpoint) {
    throw new Error(
      `${exporterConfigKey(config.name, 'endpoint')}: required for otlp-http (e.g. http://collector:4318/v1development/profiles)`,
    );
  }
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new Error(
      `${exporterConfigKey(config.name, 'endpoint')}: "${endpoint}" is not a URL (e.g. http://collector:4318/v1development/profiles)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(
      `${exporterConfigKey(config.name, 'endpoint')}: "${endpoint}" must start with http:// or https://`,
    );
  }
  if (url.username || url.password) {
    throw new Error(
      `${exporterConfigKey(config.name, 'endpoint')}: must not contain credentials; use headers (e.g. Authorization)`,
    );
  }
  return url;
}

/** config.headers checked once (the configuration already refused bad ones); names lower-cased. */
function validatedHeaders(config: ExporterConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(config.headers)) {
    const problem = httpHeaderProblem(name, value);
    if (problem !== undefined) throw new Error(`${exporterConfigKey(config.name, 'headers')}: ${problem}`);
    out[name.trim().toLowerCase()] = value;
  }
  return out;
}
