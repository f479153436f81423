import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { startPodPortForward, PortForwardError } from '../../../src/gadget-bridge/k8s/pod-port-forwarder.js';
import type { PodPortForward } from '../../../src/gadget-bridge/k8s/pod-port-forwarder.js';
import { loadKubeConfig } from '../../../src/gadget-bridge/k8s/kube-config.js';
import { Counters } from '../../../src/observability/counters.js';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';
import { parseTcpAddress, startEchoServer, waitFor } from '../../support/k8s-tcp-fixtures.js';
import type { TcpFixture } from '../../support/k8s-tcp-fixtures.js';

/** Sends `payload` over a fresh connection, half-closes after the echo is complete, returns what came back. */
function roundTrip(address: string, payload: Buffer): Promise<Buffer> {
  const { host, port } = parseTcpAddress(address);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const s = connect(port, host, () => s.write(payload));
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      if (received >= payload.length) s.end();
    });
    s.on('error', reject);
    s.on('close', () => resolve(Buffer.concat(chunks)));
  });
}

/** Connects, writes a byte, resolves with what arrived before the connection closed. */
function probe(address: string): Promise<{ data: Buffer; error: string | undefined }> {
  const { host, port } = parseTcpAddress(address);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    const s = connect(port, host, () => s.write('x'));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (e) => {
      error = e.message;
    });
    s.on('close', () => resolve({ data: Buffer.concat(chunks), error }));
  });
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('pod port-forwarder', () => {
  let api: K8sApiDouble;
  let echo: TcpFixture;
  let forward: PodPortForward;
  const errors: PortForwardError[] = [];
  const counters = new Counters();

  before(async () => {
    api = await startK8sApiDouble();
    echo = await startEchoServer();
    api.addPod({ name: 'gadget-echo', nodeName: 'node-a', target: { port: echo.port } });
    api.addPod({ name: 'gadget-dead', nodeName: 'node-b' }); // nothing listens on its 8080
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    forward = await startPodPortForward({
      kubeConfig,
      namespace: 'gadget',
      podName: 'gadget-echo',
      counters,
      onError: (e) => errors.push(e),
    });
  });
  after(async () => {
    await forward.close();
    await echo.close();
    await api.close();
  });

  it('returns a loopback tcp:// address', () => {
    assert.match(forward.address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(`tcp://${forward.host}:${forward.port}`, forward.address);
  });

  it('carries a large payload both ways through the API server WebSocket', async () => {
    const before = api.portForwardsTotal;
    const payload = randomBytes(8 * 1024 * 1024 + 3);
    const back = await roundTrip(forward.address, payload);
    assert.equal(back.length, payload.length);
    assert.equal(sha(back), sha(payload));
    assert.equal(api.portForwardsTotal, before + 1);
    const pf = api.requests.find((r) => r.path === '/api/v1/namespaces/gadget/pods/gadget-echo/portforward');
    assert.equal(pf?.query.ports, '8080');
  });

  it('delivers every byte to a stalled reader: download backpressure pauses and resumes the WebSocket', async () => {
    const payload = randomBytes(16 * 1024 * 1024);
    const { host, port } = parseTcpAddress(forward.address);
    const pausesBefore = counters.get('k8s_portforward_backpressure_pauses', { pod: 'gadget-echo' });
    const chunks: Buffer[] = [];
    let received = 0;
    const s = connect(port, host, () => s.write(payload));
    const closed = new Promise<void>((resolve, reject) => {
      s.on('error', reject);
      s.on('close', () => resolve());
    });
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
      if (received >= payload.length) s.end();
    });
    s.pause(); // read nothing until the forwarder has had to pause the WebSocket
    await waitFor(
      'a backpressure pause',
      () => counters.get('k8s_portforward_backpressure_pauses', { pod: 'gadget-echo' }) > pausesBefore,
      15_000,
    );
    s.resume();
    await closed;
    assert.equal(sha(Buffer.concat(chunks)), sha(payload));
  });

  it('forwards several concurrent connections independently', async () => {
    const before = api.portForwardsTotal;
    const payloads = Array.from({ length: 6 }, (_, i) => randomBytes(64 * 1024 * (i + 1)));
    const backs = await Promise.all(payloads.map((p) => roundTrip(forward.address, p)));
    backs.forEach((b, i) => assert.equal(sha(b), sha(payloads[i]!), `connection ${i}`));
    assert.equal(api.portForwardsTotal, before + payloads.length);
    assert.ok(counters.get('k8s_portforward_connections', { pod: 'gadget-echo' }) >= payloads.length + 1);
    await waitFor('local connections to close', () => forward.activeConnections === 0);
    await waitFor('the double to see the WebSockets closed', () => api.portForwardsOpen === 0);
  });

  it('ends the local connection when the pod side closes', async () => {
    const { host, port } = parseTcpAddress(forward.address);
    const s = connect(port, host);
    const closed = new Promise<boolean>((resolve) => s.on('close', (hadError) => resolve(hadError)));
    s.on('error', () => undefined);
    await waitFor('the forward to open', () => api.portForwardsOpen === 1);
    api.closePortForwards();
    assert.equal(await closed, false); // an orderly end, not a reset
    await waitFor('the local side to close', () => forward.activeConnections === 0);
  });

  it('surfaces error-channel messages with the pod name and closes the connection', async () => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const seen: PortForwardError[] = [];
    const dead = await startPodPortForward({
      kubeConfig,
      namespace: 'gadget',
      podName: 'gadget-dead',
      counters,
      onError: (e) => seen.push(e),
    });
    try {
      const result = await probe(dead.address);
      assert.equal(result.data.length, 0);
      await waitFor('the error report', () => seen.length === 1);
      const err = seen[0]!;
      assert.ok(err instanceof PortForwardError);
      assert.equal(err.kind, 'error-channel');
      assert.equal(err.podName, 'gadget-dead');
      assert.match(
        err.message,
        /port-forward to pod gadget\/gadget-dead port 8080: error forwarding port 8080 .*connection refused/,
      );
      assert.equal(dead.lastError, err);
      assert.equal(counters.get('k8s_portforward_errors', { pod: 'gadget-dead' }), 1);
    } finally {
      await dead.close();
    }
  });

  it('surfaces a refused upgrade (RBAC) with the fix', async () => {
    api.setPortForwardForbidden(true);
    try {
      const result = await probe(forward.address);
      assert.equal(result.data.length, 0);
      await waitFor('the error report', () => errors.length === 1);
      assert.equal(errors[0]!.kind, 'upgrade');
      assert.match(
        errors[0]!.message,
        /port-forward to pod gadget\/gadget-echo port 8080 failed: .*403.*"create" on pods\/portforward in namespace gadget/,
      );
    } finally {
      api.setPortForwardForbidden(false);
    }
    // The forward keeps serving once the API server allows it again.
    const payload = randomBytes(1000);
    assert.equal(sha(await roundTrip(forward.address, payload)), sha(payload));
  });

  it('close() drops open connections and stops listening', async () => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const f = await startPodPortForward({ kubeConfig, namespace: 'gadget', podName: 'gadget-echo' });
    const { host, port } = parseTcpAddress(f.address);
    const s = connect(port, host);
    s.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
    await waitFor('the connection', () => f.activeConnections === 1);
    await f.close();
    await closed;
    await waitFor('the WebSocket to close', () => api.portForwardsOpen === 0);
    const refused = await probe(f.address);
    assert.match(refused.error ?? '', /ECONNREFUSED/);
  });
});
