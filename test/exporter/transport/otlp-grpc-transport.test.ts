import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ExporterConfig } from '../../../src/config/exporter-config.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import type { ExporterTransport } from '../../../src/exporter/exporter-transport.js';
import { createOtlpGrpcTransport } from '../../../src/exporter/transport/otlp-grpc-transport.js';
import { Counters } from '../../../src/observability/counters.js';
import { createLogger } from '../../../src/observability/logger.js';
import {
  OTLP_PROFILES_GRPC_PATH,
  startGrpcOtlpServer,
  type OtlpTestServer,
} from '../../support/otlp-test-servers.js';
import { decodeTestRequest, testExporterConfig, tinyBatch } from '../../support/transport-fixtures.js';

const SECRET = 'Bearer s3cr3t-token-value';
const TIMEOUT_MS = 3_000;

function errorOf(r: ExportResponse): Error {
  assert.notEqual(r.status, 'success', 'expected an error response');
  return (r as { error: Error }).error;
}

describe('OTLP/gRPC transport against a real gRPC server', () => {
  let server: OtlpTestServer;
  let transport: ExporterTransport;
  let counters: Counters;
  const logLines: string[] = [];

  const make = (overrides: Partial<ExporterConfig> = {}): ExporterTransport =>
    createOtlpGrpcTransport(
      testExporterConfig({
        endpoint: server.endpoint,
        headers: { authorization: SECRET, 'x-tenant': 'team-a' },
        ...overrides,
      }),
      { logger: createLogger({ level: 'debug', write: (l) => void logLines.push(l) }), counters },
    );

  before(async () => {
    server = await startGrpcOtlpServer();
  });
  after(async () => {
    await transport?.shutdown();
    await server.close();
  });
  beforeEach(async () => {
    await transport?.shutdown();
    server.requests.length = 0;
    server.defaultResponse = {};
    counters = new Counters();
    transport = make();
  });

  it('delivers the batch bytes to the Export method with metadata and our User-Agent', async () => {
    const batch = tinyBatch({ serviceName: 'checkout' });
    const r = await transport.send(batch, TIMEOUT_MS);
    assert.deepEqual(r, { status: 'success' });
    assert.equal(server.requests.length, 1);
    const req = server.requests[0]!;
    assert.equal(req.path, OTLP_PROFILES_GRPC_PATH);
    assert.equal(req.contentType, 'application/grpc');
    assert.deepEqual(Buffer.from(req.body), Buffer.from(batch.bytes));
    const decoded = JSON.stringify(decodeTestRequest(req.body));
    assert.match(decoded, /"stringValue":"checkout"/);
    assert.equal(req.headers.authorization, SECRET);
    assert.equal(req.headers['x-tenant'], 'team-a');
    assert.match(req.headers['user-agent'] ?? '', /^ig-otel-profiles\/\d/);
    assert.equal(req.compressed, false);
    assert.equal(counters.get('export_attempts', { exporter: 'test', outcome: 'success' }), 1);
  });

  it('returns partial success without retrying', async () => {
    server.script({ partialSuccess: { rejected: 2, message: 'stack_index out of range' } });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.deepEqual(r, { status: 'success', rejectedProfiles: 2, message: 'stack_index out of range' });
    assert.equal(server.requests.length, 1);
  });

  it('returns a warning (0 rejected + message) as success with the message', async () => {
    server.script({ partialSuccess: { rejected: 0, message: 'deprecated field' } });
    assert.deepEqual(await transport.send(tinyBatch(), TIMEOUT_MS), {
      status: 'success',
      rejectedProfiles: 0,
      message: 'deprecated field',
    });
  });

  it('an OK answer over the 4 MiB response cap is a delivery, with a warning that it was not read', async () => {
    server.script({ partialSuccess: { rejected: 0, message: 'x'.repeat(5 * 1024 * 1024) } });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'success');
    assert.match(
      r.status === 'success' ? (r.message ?? '') : '',
      /larger than the \d+-byte cap and was not read/,
    );
    assert.equal(server.requests.length, 1);
  });

  it('UNAVAILABLE ⇒ retryable', async () => {
    server.script({ grpcStatus: 14, message: 'collector restarting' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /UNAVAILABLE \(14\): collector restarting/);
  });

  it('RESOURCE_EXHAUSTED with RetryInfo ⇒ retryable after the server-requested delay', async () => {
    server.script({ grpcStatus: 8, message: 'rate limited', retryDelayMs: 1500 });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    assert.equal(r.status === 'retryable' && r.retryAfterMs, 1500);
  });

  it('RESOURCE_EXHAUSTED without RetryInfo ⇒ permanent', async () => {
    server.script({ grpcStatus: 8, message: 'quota exceeded' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.equal(r.status === 'failure' && r.tooLarge, undefined);
  });

  it('INVALID_ARGUMENT and UNIMPLEMENTED ⇒ permanent', async () => {
    server.script({ grpcStatus: 3, message: 'bad dictionary' }, { grpcStatus: 12 });
    assert.equal((await transport.send(tinyBatch(), TIMEOUT_MS)).status, 'failure');
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.match(errorOf(r).message, /UNIMPLEMENTED/);
  });

  it('a request over the server limit ⇒ failure with tooLarge (the Collector wording)', async () => {
    const small = await startGrpcOtlpServer({ maxRequestBytes: 1000 });
    const t = createOtlpGrpcTransport(testExporterConfig({ endpoint: small.endpoint }), {
      logger: createLogger({ level: 'error', write: () => undefined }),
      counters,
    });
    try {
      const r = await t.send(tinyBatch({ padding: 5000 }), TIMEOUT_MS);
      assert.equal(r.status, 'failure');
      assert.equal(r.status === 'failure' && r.tooLarge, true);
      // A small request still passes.
      assert.equal((await t.send(tinyBatch(), TIMEOUT_MS)).status, 'success');
    } finally {
      await t.shutdown();
      await small.close();
    }
  });

  it('a request over the client send limit ⇒ failure with tooLarge, nothing sent', async () => {
    const huge = { ...tinyBatch(), bytes: new Uint8Array(64 * 1024 * 1024 + 1) };
    const r = await transport.send(huge, TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.equal(r.status === 'failure' && r.tooLarge, true);
    assert.equal(server.requests.length, 0);
  });

  it('a hanging server ⇒ retryable DEADLINE_EXCEEDED after the timeout', async () => {
    server.script({ hang: true });
    const r = await transport.send(tinyBatch(), 300);
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /DEADLINE_EXCEEDED/);
    assert.equal(server.requests.length, 1);
  });

  it('a non-gRPC proxy answer (HTTP 502 HTML) ⇒ retryable', async () => {
    server.script({ httpStatus: 502, body: '<html>bad gateway</html>', contentType: 'text/html' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /502/);
  });

  it('connection refused while the backend is down ⇒ retryable; success once it is back on the same port', async () => {
    const port = server.port;
    await server.stop();
    try {
      const r = await transport.send(tinyBatch(), TIMEOUT_MS);
      assert.equal(r.status, 'retryable');
      assert.match(errorOf(r).message, /ECONNREFUSED|UNAVAILABLE/);
    } finally {
      await server.restart();
    }
    assert.equal(server.port, port);
    // grpc-js reconnects with its own backoff: the first calls after the restart may still fail fast.
    let r: ExportResponse = { status: 'retryable', error: new Error('not sent') };
    for (let i = 0; i < 50 && r.status !== 'success'; i++) {
      r = await transport.send(tinyBatch(), TIMEOUT_MS);
      if (r.status !== 'success') await new Promise((res) => setTimeout(res, 100));
    }
    assert.equal(r.status, 'success');
  });

  it('gzip: the message arrives compressed (grpc-encoding gzip) and decompresses to the batch bytes', async () => {
    transport = make({ compression: 'gzip' });
    const batch = tinyBatch({ padding: 20_000 });
    assert.equal((await transport.send(batch, TIMEOUT_MS)).status, 'success');
    const req = server.requests[0]!;
    assert.equal(req.compressed, true);
    assert.equal(req.contentEncoding, 'gzip');
    assert.ok(req.wireBytes < batch.bytes.length / 10, `wire ${req.wireBytes} vs raw ${batch.bytes.length}`);
    assert.deepEqual(Buffer.from(req.body), Buffer.from(batch.bytes));
  });

  it('header values never appear in the description, errors or logs', async () => {
    logLines.length = 0;
    server.script({ grpcStatus: 16, message: 'bad token' }, { grpcStatus: 14 }, { hang: true });
    const results = [
      await transport.send(tinyBatch(), TIMEOUT_MS),
      await transport.send(tinyBatch(), TIMEOUT_MS),
      await transport.send(tinyBatch(), 200),
    ];
    assert.equal(server.requests[0]?.headers.authorization, SECRET);
    assert.equal(transport.description, `otlp-grpc ${server.endpoint}`);
    const texts = [transport.description, ...results.map((r) => errorOf(r).message), ...logLines];
    assert.ok(logLines.length > 0, 'debug logging produced lines to check');
    for (const text of texts) assert.ok(!text.includes('s3cr3t'), `secret leaked into: ${text}`);
  });

  it('delivers over a unix socket (unix:/path endpoint)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'igop-'));
    const unixServer = await startGrpcOtlpServer({ socketPath: join(dir, 'otlp.sock') });
    const t = make({ endpoint: unixServer.endpoint });
    try {
      assert.match(unixServer.endpoint, /^unix:\//);
      assert.deepEqual(await t.send(tinyBatch(), TIMEOUT_MS), { status: 'success' });
      assert.equal(unixServer.requests.length, 1);
    } finally {
      await t.shutdown();
      await unixServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects invalid metadata at creation without echoing the value', () => {
    assert.throws(
      () =>
        createOtlpGrpcTransport(
          testExporterConfig({ endpoint: server.endpoint, headers: { 'bad key!': SECRET } }),
          { logger: createLogger({ write: () => undefined }), counters },
        ),
      (err: Error) =>
        /header name "bad key!" is not valid gRPC metadata/.test(err.message) &&
        !err.message.includes('s3cr3t'),
    );
  });

  it('requires an endpoint', () => {
    assert.throws(
      () =>
        createOtlpGrpcTransport(testExporterConfig({ endpoint: undefined }), {
          logger: createLogger({ write: () => undefined }),
          counters,
        }),
      /endpoint: required/,
    );
  });

  it('fails sends after shutdown instead of throwing', async () => {
    await transport.shutdown();
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.match(errorOf(r).message, /shut down/);
  });
});
