import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { ExporterConfig } from '../../../src/config/exporter-config.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import type { ExporterTransport } from '../../../src/exporter/exporter-transport.js';
import { createOtlpHttpTransport } from '../../../src/exporter/transport/otlp-http-transport.js';
import { Counters } from '../../../src/observability/counters.js';
import { createLogger } from '../../../src/observability/logger.js';
import {
  OTLP_PROFILES_HTTP_PATH,
  startHttpOtlpServer,
  type OtlpTestServer,
} from '../../support/otlp-test-servers.js';
import { decodeTestRequest, testExporterConfig, tinyBatch } from '../../support/transport-fixtures.js';

const SECRET = 'Bearer s3cr3t-token-value';
const TIMEOUT_MS = 3_000;

function errorOf(r: ExportResponse): Error {
  assert.notEqual(r.status, 'success', 'expected an error response');
  return (r as { error: Error }).error;
}

describe('OTLP/HTTP transport against a real HTTP server', () => {
  let server: OtlpTestServer;
  let transport: ExporterTransport;
  let counters: Counters;
  const logLines: string[] = [];

  const make = (overrides: Partial<ExporterConfig> = {}): ExporterTransport =>
    createOtlpHttpTransport(
      testExporterConfig({
        exporter: 'otlp-http',
        endpoint: server.endpoint,
        headers: { Authorization: SECRET, 'X-Tenant': 'team-a' },
        ...overrides,
      }),
      { logger: createLogger({ level: 'debug', write: (l) => void logLines.push(l) }), counters },
    );

  before(async () => {
    server = await startHttpOtlpServer();
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

  it('POSTs the protobuf bytes to the endpoint path with Content-Type, headers and User-Agent', async () => {
    const batch = tinyBatch({ serviceName: 'checkout' });
    assert.deepEqual(await transport.send(batch, TIMEOUT_MS), { status: 'success' });
    const req = server.requests[0]!;
    assert.equal(req.method, 'POST');
    assert.equal(req.path, OTLP_PROFILES_HTTP_PATH);
    assert.equal(req.contentType, 'application/x-protobuf');
    assert.equal(req.compressed, false);
    assert.deepEqual(Buffer.from(req.body), Buffer.from(batch.bytes));
    assert.match(JSON.stringify(decodeTestRequest(req.body)), /"stringValue":"checkout"/);
    assert.equal(req.headers.authorization, SECRET);
    assert.equal(req.headers['x-tenant'], 'team-a');
    assert.match(req.headers['user-agent'] ?? '', /^ig-otel-profiles\/\d/);
    assert.equal(counters.get('export_attempts', { exporter: 'test', outcome: 'success' }), 1);
  });

  it('reuses the connection (keep-alive)', async () => {
    await transport.send(tinyBatch(), TIMEOUT_MS);
    await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(server.requests[1]?.headers.connection, 'keep-alive');
  });

  it('returns partial success (protobuf response) without retrying', async () => {
    server.script({ partialSuccess: { rejected: 3, message: 'unknown stack' } });
    assert.deepEqual(await transport.send(tinyBatch(), TIMEOUT_MS), {
      status: 'success',
      rejectedProfiles: 3,
      message: 'unknown stack',
    });
    assert.equal(server.requests.length, 1);
  });

  it('429 + Retry-After delay-seconds ⇒ retryable with that delay', async () => {
    server.script({ httpStatus: 429, retryAfter: '2' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    assert.equal(r.status === 'retryable' && r.retryAfterMs, 2000);
  });

  it('429 + Retry-After HTTP-date ⇒ retryable with the time until then', async () => {
    const at = Date.now() + 60_000;
    server.script({ httpStatus: 429, retryAfter: new Date(at).toUTCString() });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    const ms = r.status === 'retryable' ? (r.retryAfterMs ?? -1) : -1;
    // HTTP-dates have 1 s resolution, and some time passes while the request runs.
    assert.ok(ms > 50_000 && ms <= 60_000, `retryAfterMs ${ms}`);
  });

  it('503 ⇒ retryable; a RetryInfo in its Status body gives the delay', async () => {
    server.script({ httpStatus: 503 }, { httpStatus: 503, message: 'overloaded', retryDelayMs: 1200 });
    const first = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(first.status, 'retryable');
    assert.equal(first.status === 'retryable' && first.retryAfterMs, undefined);
    const second = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(second.status === 'retryable' && second.retryAfterMs, 1200);
    assert.match(errorOf(second).message, /HTTP 503 Service Unavailable: overloaded/);
  });

  it('400 ⇒ permanent, quoting the google.rpc.Status message', async () => {
    server.script({ httpStatus: 400, message: 'string_table[0] must be empty' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.equal(r.status === 'failure' && r.tooLarge, undefined);
    assert.match(errorOf(r).message, /HTTP 400 Bad Request: string_table\[0\] must be empty/);
  });

  it('413 from the server body limit ⇒ failure with tooLarge', async () => {
    const small = await startHttpOtlpServer({ maxRequestBytes: 1000 });
    const t = createOtlpHttpTransport(
      testExporterConfig({ exporter: 'otlp-http', endpoint: small.endpoint }),
      {
        logger: createLogger({ write: () => undefined }),
        counters,
      },
    );
    try {
      const r = await t.send(tinyBatch({ padding: 5000 }), TIMEOUT_MS);
      assert.equal(r.status, 'failure');
      assert.equal(r.status === 'failure' && r.tooLarge, true);
      assert.equal((await t.send(tinyBatch(), TIMEOUT_MS)).status, 'success');
    } finally {
      await t.shutdown();
      await small.close();
    }
  });

  it('a wrong path (404) ⇒ permanent, with a hint about the URL', async () => {
    transport = make({ endpoint: server.endpoint.replace(OTLP_PROFILES_HTTP_PATH, '/v1/profiles') });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.match(errorOf(r).message, /HTTP 404 Not Found: 404 page not found .*\/v1development\/profiles/);
  });

  it('a non-OTLP body (HTML from a proxy) ⇒ the status code and a short snippet', async () => {
    const page = `<html><head><title>502 Bad Gateway</title></head><body>${'x'.repeat(500)}END-OF-PAGE</body></html>`;
    server.script({ httpStatus: 502, body: page, contentType: 'text/html' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    const message = errorOf(r).message;
    assert.match(message, /HTTP 502 Bad Gateway: <html><head><title>502 Bad Gateway<\/title>/);
    assert.doesNotMatch(message, /END-OF-PAGE/);
    assert.ok(message.length < 200 + 200, `message too long: ${message.length}`);
  });

  it('a hanging server ⇒ retryable after the timeout', async () => {
    server.script({ hang: true });
    const r = await transport.send(tinyBatch(), 300);
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /within 300 ms/);
    // The next request is served normally (the timed-out socket was discarded).
    assert.equal((await transport.send(tinyBatch(), TIMEOUT_MS)).status, 'success');
  });

  it('a server that drops the connection ⇒ retryable', async () => {
    server.script({ disconnect: true });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
  });

  it('connection refused while the backend is down ⇒ retryable; success once it is back on the same port', async () => {
    const port = server.port;
    await server.stop();
    try {
      const r = await transport.send(tinyBatch(), TIMEOUT_MS);
      assert.equal(r.status, 'retryable');
      assert.match(errorOf(r).message, /ECONNREFUSED/);
    } finally {
      await server.restart();
    }
    assert.equal(server.port, port);
    assert.equal((await transport.send(tinyBatch(), TIMEOUT_MS)).status, 'success');
  });

  it('a 2xx answer over the 4 MiB cap is a delivery, with a warning that its body was not read', async () => {
    server.script({
      httpStatus: 200,
      body: new Uint8Array(5 * 1024 * 1024),
      contentType: 'application/x-protobuf',
    });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'success');
    assert.match(
      r.status === 'success' ? (r.message ?? '') : '',
      /body not read \(it is larger than the 4194304-byte cap\); the data was accepted/,
    );
  });

  it('a non-2xx answer over the cap is classified by its status: 503 stays retryable', async () => {
    server.script({ httpStatus: 503, body: 'busy '.repeat(1024 * 1024), contentType: 'text/plain' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'retryable');
    assert.match(errorOf(r).message, /HTTP 503/);
  });

  it('stops reading at the cap: a 200 whose body never ends is still a delivery', async () => {
    const endless = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-protobuf' });
        const chunk = Buffer.alloc(64 * 1024);
        const pump = (): void => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
    });
    endless.listen(0, '127.0.0.1');
    await once(endless, 'listening');
    const { port } = endless.address() as AddressInfo;
    const t = createOtlpHttpTransport(
      testExporterConfig({
        exporter: 'otlp-http',
        endpoint: `http://127.0.0.1:${port}${OTLP_PROFILES_HTTP_PATH}`,
      }),
      { logger: createLogger({ level: 'error', write: () => undefined }), counters },
    );
    try {
      // Reading on would never end: the attempt would time out (retryable) instead.
      const r = await t.send(tinyBatch(), 30_000);
      assert.equal(r.status, 'success');
    } finally {
      await t.shutdown();
      endless.closeAllConnections();
      endless.close();
    }
  });

  it('a 2xx body that is not OTLP still counts as delivered', async () => {
    server.script({ httpStatus: 200, body: 'OK', contentType: 'text/plain' });
    assert.deepEqual(await transport.send(tinyBatch(), TIMEOUT_MS), { status: 'success' });
  });

  it('gzip: Content-Encoding gzip, and the body decompresses to the batch bytes', async () => {
    transport = make({ compression: 'gzip' });
    const batch = tinyBatch({ padding: 20_000 });
    assert.equal((await transport.send(batch, TIMEOUT_MS)).status, 'success');
    const req = server.requests[0]!;
    assert.equal(req.contentEncoding, 'gzip');
    assert.equal(req.compressed, true);
    assert.ok(req.wireBytes < batch.bytes.length / 10, `wire ${req.wireBytes} vs raw ${batch.bytes.length}`);
    assert.deepEqual(Buffer.from(req.body), Buffer.from(batch.bytes));
  });

  it('JSON: Content-Type application/json, OTLP/JSON body, JSON partial success decoded', async () => {
    transport = make({ protocol: 'json', compression: 'gzip' });
    server.script({ partialSuccess: { rejected: 1, message: 'json says no' } });
    const r = await transport.send(tinyBatch({ serviceName: 'json-svc' }), TIMEOUT_MS);
    assert.deepEqual(r, { status: 'success', rejectedProfiles: 1, message: 'json says no' });
    const req = server.requests[0]!;
    assert.equal(req.contentType, 'application/json');
    assert.equal(req.contentEncoding, 'gzip');
    const body = JSON.parse(Buffer.from(req.body).toString('utf8')) as {
      resourceProfiles: { resource: { attributes: { key: string; value: { stringValue: string } }[] } }[];
      dictionary: { stringTable: string[] };
    };
    assert.deepEqual(body.resourceProfiles[0]?.resource.attributes[0], {
      key: 'service.name',
      value: { stringValue: 'json-svc' },
    });
    assert.ok(body.dictionary.stringTable.includes('main'));
  });

  it('JSON: an error answered as a JSON google.rpc.Status is quoted', async () => {
    transport = make({ protocol: 'json' });
    server.script({ httpStatus: 400, message: 'unknown field "foo"' });
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
    assert.match(errorOf(r).message, /HTTP 400 Bad Request: unknown field "foo"/);
  });

  it('header values never appear in the description, errors or logs', async () => {
    logLines.length = 0;
    server.script(
      { httpStatus: 401, body: 'unauthorized', contentType: 'text/plain' },
      { httpStatus: 503 },
      { hang: true },
    );
    const results = [
      await transport.send(tinyBatch(), TIMEOUT_MS),
      await transport.send(tinyBatch(), TIMEOUT_MS),
      await transport.send(tinyBatch(), 200),
    ];
    assert.equal(server.requests[0]?.headers.authorization, SECRET);
    assert.equal(transport.description, `otlp-http ${server.endpoint}`);
    assert.ok(logLines.length > 0, 'debug logging produced lines to check');
    for (const text of [transport.description, ...results.map((r) => errorOf(r).message), ...logLines]) {
      assert.ok(!text.includes('s3cr3t'), `secret leaked into: ${text}`);
    }
  });

  it('rejects bad endpoints and header values at creation, without echoing values', () => {
    const deps = { logger: createLogger({ write: () => undefined }), counters };
    assert.throws(
      () => createOtlpHttpTransport(testExporterConfig({ exporter: 'otlp-http', endpoint: undefined }), deps),
      /endpoint: required/,
    );
    assert.throws(
      () =>
        createOtlpHttpTransport(
          testExporterConfig({ exporter: 'otlp-http', endpoint: 'collector:4318' }),
          deps,
        ),
      /http:\/\/ or https:\/\//,
    );
    assert.throws(
      () =>
        createOtlpHttpTransport(
          testExporterConfig({
            exporter: 'otlp-http',
            endpoint: server.endpoint,
            headers: { authorization: 's3cr3t\nInjected: 1' },
          }),
          deps,
        ),
      (err: Error) => /header "authorization"/.test(err.message) && !err.message.includes('s3cr3t'),
    );
  });

  it('fails sends after shutdown instead of throwing', async () => {
    await transport.shutdown();
    const r = await transport.send(tinyBatch(), TIMEOUT_MS);
    assert.equal(r.status, 'failure');
  });
});
