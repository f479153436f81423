import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import type { TlsConfig } from '../../src/config/exporter-config.js';
import { igChannelSetup } from '../../src/gadget-bridge/grpc/ig-address.js';
import type { ExporterTransport } from '../../src/exporter/exporter-transport.js';
import { createOtlpGrpcTransport } from '../../src/exporter/transport/otlp-grpc-transport.js';
import { createOtlpHttpTransport } from '../../src/exporter/transport/otlp-http-transport.js';
import { Counters } from '../../src/observability/counters.js';
import { createLogger } from '../../src/observability/logger.js';
import {
  startGrpcOtlpServer,
  startHttpOtlpServer,
  type OtlpTestServer,
} from '../support/otlp-test-servers.js';
import { createTlsFixtures, tlsFixturesUnavailable, type TlsFixtures } from '../support/tls-fixtures.js';
import { testExporterConfig, tinyBatch } from '../support/transport-fixtures.js';

// Own file: Node prints DEP0123 once per process, so an earlier TLS test would hide it; for the same
// reason each path is tested before the next one could have printed it.
const skip = tlsFixturesUnavailable();
const TIMEOUT_MS = 5_000;

describe('TLS to an IP address: verified against the IP SAN, no SNI, no DEP0123 warning', { skip }, () => {
  let pki: TlsFixtures;
  let grpcServer: OtlpTestServer;
  let httpServer: OtlpTestServer;
  const warnings: Error[] = [];
  const onWarning = (w: Error): void => void warnings.push(w);
  const transports: ExporterTransport[] = [];
  const deps = () => ({ logger: createLogger({ write: () => undefined }), counters: new Counters() });
  const viaGrpc = (tls: TlsConfig): ExporterTransport => {
    const config = testExporterConfig({
      exporter: 'otlp-grpc',
      endpoint: grpcServer.endpoint,
      insecure: false,
      tls,
    });
    const t = createOtlpGrpcTransport(config, deps());
    transports.push(t);
    return t;
  };
  /** To https://localhost:PORT, verified against tls.serverName. */
  const viaHttp = (tls: TlsConfig): ExporterTransport => {
    const endpoint = httpServer.endpoint.replace('127.0.0.1', 'localhost');
    const t = createOtlpHttpTransport(testExporterConfig({ exporter: 'otlp-http', endpoint, tls }), deps());
    transports.push(t);
    return t;
  };
  /** Warnings are emitted on a later tick: let them arrive before looking. */
  const settledWarnings = async (): Promise<string[]> => {
    await new Promise((r) => setImmediate(r));
    return warnings.map((w) => `${(w as Error & { code?: string }).code ?? w.name}: ${w.message}`);
  };

  before(async () => {
    process.on('warning', onWarning);
    pki = createTlsFixtures();
    const tls = { cert: pki.pem.serverCert, key: pki.pem.serverKey };
    grpcServer = await startGrpcOtlpServer({ tls });
    httpServer = await startHttpOtlpServer({ tls });
    assert.match(grpcServer.endpoint, /^127\.0\.0\.1:\d+$/);
  });
  after(async () => {
    process.off('warning', onWarning);
    for (const t of transports) await t.shutdown();
    await grpcServer?.close();
    await httpServer?.close();
    pki?.cleanup();
  });

  it("the IG daemon channel (gadgetctl's TLS flags) connects to 127.0.0.1 without a warning", async () => {
    const setup = igChannelSetup(`tcp://${grpcServer.endpoint}`, { serverCaFile: pki.caCertFile });
    const client = new grpc.Client(setup.target, setup.credentials, setup.options);
    try {
      await new Promise<void>((resolve, reject) =>
        client.waitForReady(Date.now() + TIMEOUT_MS, (err) => (err ? reject(err) : resolve())),
      );
    } finally {
      client.close();
    }
    assert.deepEqual(await settledWarnings(), []);
  });

  it('the OTLP/gRPC exporter delivers to 127.0.0.1 over TLS without a warning', async () => {
    const r = await viaGrpc({ caFile: pki.caCertFile }).send(tinyBatch(), TIMEOUT_MS);
    assert.deepEqual(r, { status: 'success' });
    assert.deepEqual(await settledWarnings(), []);
  });

  it('the OTLP/HTTP exporter verifies against an IP tls.serverName without a warning', async () => {
    const r = await viaHttp({ caFile: pki.caCertFile, serverName: '127.0.0.1' }).send(
      tinyBatch(),
      TIMEOUT_MS,
    );
    assert.deepEqual(r, { status: 'success' });
    assert.deepEqual(await settledWarnings(), []);
  });

  it('over a unix socket the certificate is verified against localhost, as grpc-js does', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'igop-tls-sock-'));
    const socketServer = await startGrpcOtlpServer({
      tls: { cert: pki.pem.serverCert, key: pki.pem.serverKey },
      socketPath: join(dir, 'otlp.sock'),
    });
    try {
      const config = testExporterConfig({
        exporter: 'otlp-grpc',
        endpoint: socketServer.endpoint,
        insecure: false,
        tls: { caFile: pki.caCertFile },
      });
      const t = createOtlpGrpcTransport(config, deps());
      transports.push(t);
      assert.deepEqual(await t.send(tinyBatch(), TIMEOUT_MS), { status: 'success' });
    } finally {
      await socketServer.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('still verifies the certificate: a server name or IP the certificate does not hold is refused', async () => {
    const before = grpcServer.requests.length + httpServer.requests.length;
    for (const serverName of ['not-in-the-cert.example', '10.1.2.3']) {
      for (const transport of [viaGrpc, viaHttp]) {
        const r = await transport({ caFile: pki.caCertFile, serverName }).send(tinyBatch(), TIMEOUT_MS);
        assert.notEqual(r.status, 'success', serverName);
      }
    }
    assert.equal(grpcServer.requests.length + httpServer.requests.length, before, 'nothing reached a server');
    assert.deepEqual(await settledWarnings(), []);
  });
});
