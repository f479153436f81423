import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExporterConfig, TlsConfig } from '../../../src/config/exporter-config.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import type { ExporterTransport } from '../../../src/exporter/exporter-transport.js';
import { createOtlpGrpcTransport } from '../../../src/exporter/transport/otlp-grpc-transport.js';
import { createOtlpHttpTransport } from '../../../src/exporter/transport/otlp-http-transport.js';
import { Counters } from '../../../src/observability/counters.js';
import { createLogger } from '../../../src/observability/logger.js';
import {
  startGrpcOtlpServer,
  startHttpOtlpServer,
  type OtlpTestServer,
  type OtlpTestServerOptions,
} from '../../support/otlp-test-servers.js';
import {
  TEST_SERVER_NAME,
  createTlsFixtures,
  tlsFixturesUnavailable,
  type TlsFixtures,
} from '../../support/tls-fixtures.js';
import { testExporterConfig, tinyBatch } from '../../support/transport-fixtures.js';

const skip = tlsFixturesUnavailable();
const TIMEOUT_MS = 3_000;
const deps = () => ({ logger: createLogger({ write: () => undefined }), counters: new Counters() });

function errorOf(r: ExportResponse): Error {
  assert.notEqual(r.status, 'success', 'expected an error response');
  return (r as { error: Error }).error;
}

interface Flavour {
  readonly name: string;
  readonly start: (options: OtlpTestServerOptions) => Promise<OtlpTestServer>;
  readonly create: (config: ExporterConfig) => ExporterTransport;
  readonly config: (server: OtlpTestServer, tls: TlsConfig) => ExporterConfig;
}

const FLAVOURS: Flavour[] = [
  {
    name: 'OTLP/gRPC',
    start: startGrpcOtlpServer,
    create: (config) => createOtlpGrpcTransport(config, deps()),
    config: (server, tls) =>
      testExporterConfig({ exporter: 'otlp-grpc', endpoint: server.endpoint, insecure: false, tls }),
  },
  {
    name: 'OTLP/HTTP',
    start: startHttpOtlpServer,
    create: (config) => createOtlpHttpTransport(config, deps()),
    config: (server, tls) => testExporterConfig({ exporter: 'otlp-http', endpoint: server.endpoint, tls }),
  },
];

for (const flavour of FLAVOURS) {
  describe(`${flavour.name} over TLS`, { skip }, () => {
    let pki: TlsFixtures;
    let tlsServer: OtlpTestServer;
    let mtlsServer: OtlpTestServer;
    const transports: ExporterTransport[] = [];
    const make = (server: OtlpTestServer, tls: TlsConfig): ExporterTransport => {
      const t = flavour.create(flavour.config(server, tls));
      transports.push(t);
      return t;
    };

    before(async () => {
      pki = createTlsFixtures();
      tlsServer = await flavour.start({ tls: { cert: pki.pem.serverCert, key: pki.pem.serverKey } });
      mtlsServer = await flavour.start({
        tls: { cert: pki.pem.serverCert, key: pki.pem.serverKey, ca: pki.pem.ca, requireClientCert: true },
      });
    });
    after(async () => {
      for (const t of transports) await t.shutdown();
      await tlsServer?.close();
      await mtlsServer?.close();
      pki?.cleanup();
    });

    it('delivers with the configured CA', async () => {
      const r = await make(tlsServer, { caFile: pki.caCertFile }).send(tinyBatch(), TIMEOUT_MS);
      assert.deepEqual(r, { status: 'success' });
      assert.equal(tlsServer.requests.length, 1);
    });

    it('delivers with mTLS (client certificate + key)', async () => {
      const t = make(mtlsServer, {
        caFile: pki.caCertFile,
        certFile: pki.clientCertFile,
        keyFile: pki.clientKeyFile,
      });
      assert.deepEqual(await t.send(tinyBatch(), TIMEOUT_MS), { status: 'success' });
    });

    it('verifies against tls.serverName when it differs from the endpoint host', async () => {
      const ok = make(tlsServer, { caFile: pki.caCertFile, serverName: TEST_SERVER_NAME });
      assert.equal((await ok.send(tinyBatch(), TIMEOUT_MS)).status, 'success');
      const wrong = make(tlsServer, { caFile: pki.caCertFile, serverName: 'not-in-the-cert.example' });
      const r = await wrong.send(tinyBatch(), TIMEOUT_MS);
      assert.notEqual(r.status, 'success');
    });

    it('a server certificate from another CA ⇒ an error naming TLS, within the timeout', async () => {
      const before = tlsServer.requests.length;
      const r = await make(tlsServer, { caFile: pki.otherCaCertFile }).send(tinyBatch(), TIMEOUT_MS);
      assert.equal(r.status, 'retryable');
      assert.match(errorOf(r).message, /TLS/);
      assert.equal(tlsServer.requests.length, before, 'nothing may reach the server');
    });

    it('an mTLS server refuses a client without a certificate', async () => {
      const r = await make(mtlsServer, { caFile: pki.caCertFile }).send(tinyBatch(), TIMEOUT_MS);
      assert.notEqual(r.status, 'success');
    });

    it('a missing key file throws at creation, naming the key and the file', () => {
      const missing = join(pki.dir, 'no-such-client.key');
      assert.throws(
        () => make(mtlsServer, { caFile: pki.caCertFile, certFile: pki.clientCertFile, keyFile: missing }),
        (err: Error) =>
          err.message.includes('operator.otel-profiles.exporters.test.tls.key_file') &&
          err.message.includes(missing) &&
          /no such file/.test(err.message),
      );
    });

    it('a key without a certificate throws at creation', () => {
      assert.throws(
        () => make(mtlsServer, { keyFile: pki.clientKeyFile }),
        /tls\.key_file \(OTEL_EXPORTER_OTLP_CLIENT_KEY\) is set .*tls\.cert_file .*mTLS needs both/s,
      );
    });

    it('a CA file that is not PEM throws at creation, naming the key and the file', () => {
      const bogus = join(pki.dir, 'bogus-ca.pem');
      writeFileSync(bogus, 'this is not a certificate\n');
      assert.throws(
        () => make(tlsServer, { caFile: bogus }),
        (err: Error) => err.message.includes('tls.ca_file') && err.message.includes(bogus),
      );
    });

    it('a key that does not belong to the certificate throws at creation', () => {
      assert.throws(
        () =>
          make(mtlsServer, {
            caFile: pki.caCertFile,
            certFile: pki.clientCertFile,
            keyFile: pki.serverKeyFile,
          }),
        /does not belong to/,
      );
    });
  });
}
