import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { createTransport } from '../../src/exporter/create-transport.js';
import { Counters } from '../../src/observability/counters.js';
import { createLogger } from '../../src/observability/logger.js';
import { testExporterConfig } from '../support/transport-fixtures.js';

// node --test runs each file in its own process, so the module cache starts clean here.
const grpcLoaded = (): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => path.includes('@grpc/grpc-js'));

describe('createTransport', () => {
  const deps = { logger: createLogger({ level: 'error', write: () => undefined }), counters: new Counters() };

  it('does not load @grpc/grpc-js for an OTLP/HTTP exporter, and loads it for OTLP/gRPC', async () => {
    const http = await createTransport(
      testExporterConfig({ exporter: 'otlp-http', endpoint: 'http://127.0.0.1:4318' }),
      deps,
    );
    assert.equal(grpcLoaded(), false);
    await http.shutdown();
    const grpc = await createTransport(
      testExporterConfig({ exporter: 'otlp-grpc', endpoint: 'http://127.0.0.1:4317' }),
      deps,
    );
    assert.equal(grpcLoaded(), true);
    await grpc.shutdown();
  });
});
