import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { igChannelSetup } from '../../src/gadget-bridge/grpc/ig-address.js';
import type { ExporterTransport } from '../../src/exporter/exporter-transport.js';
import { createOtlpGrpcTransport } from '../../src/exporter/transport/otlp-grpc-transport.js';
import { Counters } from '../../src/observability/counters.js';
import { createLogger } from '../../src/observability/logger.js';
import { startGrpcOtlpServer, type OtlpTestServer } from '../support/otlp-test-servers.js';
import { createTlsFixtures, tlsFixturesUnavailable, type TlsFixtures } from '../support/tls-fixtures.js';
import { testExporterConfig, tinyBatch } from '../support/transport-fixtures.js';

// Own file: Node prints DEP0123 once per process, so an earlier TLS test would hide it; for the same
// reason each path is tested before the next one could have printed it.
const skip = tlsFixturesUnavailable();
const TIMEOUT_MS = 5_000;

describe(
  'gRPC TLS to an IP address: verified against the IP SAN, no SNI, no DEP0123 warning',
  { skip },
  () => {
    let pki: TlsFixtures;
    let server: OtlpTestServer;
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    const transports: ExporterTransport[] = [];
    const otlp = (tls: { caFile: string; serverName?: string }): ExporterTransport => {
      const t = createOtlpGrpcTransport(
        testExporterConfig({ exporter: 'otlp-grpc', endpoint: server.endpoint, insecure: false, tls }),
        { logger: createLogger({ write: () => undefined }), counters: new Counters() },
      );
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
      server = await startGrpcOtlpServer({ tls: { cert: pki.pem.serverCert, key: pki.pem.serverKey } });
      assert.match(server.endpoint, /^127\.0\.0\.1:\d+$/);
    });
    after(async () => {
      process.off('warning', onWarning);
      for (const t of transports) await t.shutdown();
      await server?.close();
      pki?.cleanup();
    });

    it("the IG daemon channel (gadgetctl's TLS flags) connects to 127.0.0.1 without a warning", async () => {
      const setup = igChannelSetup(`tcp://${server.endpoint}`, { serverCaFile: pki.caCertFile });
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

    it('the OTLP exporter delivers to 127.0.0.1 over TLS without a warning', async () => {
      assert.deepEqual(await otlp({ caFile: pki.caCertFile }).send(tinyBatch(), TIMEOUT_MS), {
        status: 'success',
      });
      assert.deepEqual(await settledWarnings(), []);
    });

    it('still verifies the certificate: a server name or IP the certificate does not hold is refused', async () => {
      const before = server.requests.length;
      for (const serverName of ['not-in-the-cert.example', '10.1.2.3']) {
        const r = await otlp({ caFile: pki.caCertFile, serverName }).send(tinyBatch(), TIMEOUT_MS);
        assert.notEqual(r.status, 'success', serverName);
      }
      assert.equal(server.requests.length, before, 'nothing reached the server');
      assert.deepEqual(await settledWarnings(), []);
    });
  },
);
