import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Counters } from '../../src/observability/counters.js';
import { watchEventLoop } from '../../src/observability/event-loop-watch.js';
import { silentLogger } from '../../src/observability/logger.js';
import type { ExporterProbe, MetadataProbe } from '../../src/observability/session-status.js';
import { SessionStatus } from '../../src/observability/session-status.js';
import type { TelemetryServer } from '../../src/observability/telemetry-server.js';
import { startTelemetryServer } from '../../src/observability/telemetry-server.js';

async function get(server: TelemetryServer, path: string) {
  const res = await fetch(`http://${server.address}${path}`);
  return { status: res.status, body: await res.text() };
}

function blockFor(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // a stalled event loop
  }
}

describe('telemetry server: health and readiness', () => {
  const servers: TelemetryServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  it('/healthz answers 503 after the event loop stalled longer than the bound, 200 before', async () => {
    const status = new SessionStatus(new Counters(), 'stdin', {
      state: 'connected',
      detail: 'reading stdin',
    });
    const server = await startTelemetryServer({
      address: { host: '127.0.0.1', port: 0, text: '127.0.0.1:0' },
      status,
      logger: silentLogger,
      // Generous: a loaded machine delays timers by hundreds of milliseconds on its own.
      loopWatch: watchEventLoop({ maxStallMs: 1_000, intervalMs: 50 }),
    });
    servers.push(server);
    assert.deepEqual(await get(server, '/healthz'), { status: 200, body: 'ok\n' });
    blockFor(2_500);
    const stalled = await get(server, '/healthz');
    assert.equal(stalled.status, 503);
    assert.match(stalled.body, /^event loop blocked for \d+ ms \d+ s ago \(bound 1000 ms\)\n$/);
  });

  it('/readyz: 503 with the reason while the input is not connected or an exporter fails for good', async () => {
    const status = new SessionStatus(new Counters(), 'ig_grpc', {
      state: 'connecting',
      detail: 'IG daemon at unix:///x: not connected yet',
    });
    const exporterState: { failing?: string } = {};
    const probe: ExporterProbe = {
      name: 'prod',
      queue: { medium: 'memory', maxRequests: 10, maxBytes: 100 },
      stats: () => ({
        queuedRequests: 0,
        queuedBytes: 0,
        inFlight: 0,
        backendDown: false,
        ...exporterState,
      }),
    };
    status.addExporter(probe);
    const server = await startTelemetryServer({
      address: { host: '127.0.0.1', port: 0, text: '127.0.0.1:0' },
      status,
      logger: silentLogger,
    });
    servers.push(server);
    assert.deepEqual(await get(server, '/readyz'), {
      status: 503,
      body: 'IG daemon at unix:///x: not connected yet\n',
    });
    status.setInput({ state: 'connected', detail: 'connected' });
    assert.deepEqual(await get(server, '/readyz'), { status: 200, body: 'ready\n' });
    exporterState.failing = 'permanent_error: the backend refused it: 401';
    assert.deepEqual(await get(server, '/readyz'), {
      status: 503,
      body: 'exporter prod is failing: permanent_error: the backend refused it: 401\n',
    });
    const metrics = await get(server, '/metrics');
    assert.match(metrics.body, /^ig_otel_profiles_exporter_failing\{exporter="prod"\} 1$/m);
  });

  it('pod metadata without API access: still ready, with the reason on /readyz and in /metrics', async () => {
    const status = new SessionStatus(new Counters(), 'ig_grpc', { state: 'connected', detail: '' });
    const server = await startTelemetryServer({
      address: { host: '127.0.0.1', port: 0, text: '127.0.0.1:0' },
      status,
      logger: silentLogger,
    });
    servers.push(server);
    const metricsBefore = (await get(server, '/metrics')).body;
    assert.doesNotMatch(
      metricsBefore,
      /^ig_otel_profiles_k8s_pod_metadata_state\{/m,
      'no pod metadata state when it is off',
    );
    let metadata: MetadataProbe = { state: 'synced', pods: 12 };
    status.setMetadata(() => metadata);
    assert.deepEqual(await get(server, '/readyz'), { status: 200, body: 'ready\n' });
    let metrics = (await get(server, '/metrics')).body;
    assert.match(metrics, /^ig_otel_profiles_k8s_pod_metadata_state\{state="synced"\} 1$/m);
    assert.match(metrics, /^ig_otel_profiles_k8s_pod_metadata_pods 12$/m);
    metadata = { state: 'unavailable', pods: 0, reason: 'pods is forbidden: grant get/list/watch on pods' };
    assert.deepEqual(await get(server, '/readyz'), {
      status: 200,
      body: "ready\npod metadata unavailable (profiles carry IG's own fields): pods is forbidden: grant get/list/watch on pods\n",
    });
    metrics = (await get(server, '/metrics')).body;
    assert.match(metrics, /^ig_otel_profiles_k8s_pod_metadata_state\{state="unavailable"\} 1$/m);
    assert.match(metrics, /^ig_otel_profiles_k8s_pod_metadata_state\{state="synced"\} 0$/m);
  });

  it('a busy address is a clear error naming the setting', async () => {
    const status = new SessionStatus(new Counters(), 'stdin', { state: 'connected', detail: '' });
    const first = await startTelemetryServer({
      address: { host: '127.0.0.1', port: 0, text: 'x' },
      status,
      logger: silentLogger,
    });
    servers.push(first);
    const port = Number(first.address.split(':').pop());
    await assert.rejects(
      startTelemetryServer({
        address: { host: '127.0.0.1', port, text: `127.0.0.1:${port}` },
        status,
        logger: silentLogger,
      }),
      new RegExp(
        `--telemetry-address 127\\.0\\.0\\.1:${port}: cannot listen \\(.*EADDRINUSE.*\\): choose another`,
      ),
    );
  });
});
