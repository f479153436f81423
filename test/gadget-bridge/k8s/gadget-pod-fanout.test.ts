import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  createGadgetPodFanout,
  createKubernetesGadgetFanout,
} from '../../../src/gadget-bridge/k8s/gadget-pod-fanout.js';
import type { GadgetPodFanout, GadgetPodTarget } from '../../../src/gadget-bridge/k8s/gadget-pod-fanout.js';
import {
  createGadgetPodDiscovery,
  noGadgetPodsMessage,
} from '../../../src/gadget-bridge/k8s/gadget-pod-discovery.js';
import type { GadgetPodDiscovery } from '../../../src/gadget-bridge/k8s/gadget-pod-discovery.js';
import { PROFILE_CPU_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import { createLogger } from '../../../src/observability/logger.js';
import { startPodPortForward } from '../../../src/gadget-bridge/k8s/pod-port-forwarder.js';
import { loadKubeConfig } from '../../../src/gadget-bridge/k8s/kube-config.js';
import type { RowBatch, RowSource } from '../../../src/rows/row-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';
import { createLineRowSource, startLineNode, waitFor } from '../../support/k8s-tcp-fixtures.js';
import type { LineNode } from '../../support/k8s-tcp-fixtures.js';
import { gadgetRow, getField, getString } from '../../../src/rows/gadget-row.js';

/** `node-a:row a 1` / `node-a:final node-a` per batch, from the line protocol rows. */
const describeBatch = (b: RowBatch): string => {
  const row = b.rows[0]!;
  return `${b.origin.split(' ')[0]}:${getString(row, 'kind')} ${getString(row, 'line')}`;
};

describe('gadget pod fan-out', () => {
  let api: K8sApiDouble;
  let nodeA: LineNode;
  let nodeB: LineNode;
  let fanout: GadgetPodFanout | undefined;
  let counters: Counters;
  let seen: string[];
  let consumed: Promise<void>;
  let targets: GadgetPodTarget[];

  beforeEach(async () => {
    api = await startK8sApiDouble();
    nodeA = await startLineNode('node-a');
    nodeB = await startLineNode('node-b');
    counters = new Counters();
    seen = [];
    targets = [];
  });
  afterEach(async () => {
    await fanout?.stop();
    await consumed;
    fanout = undefined;
    await nodeA.close();
    await nodeB.close();
    await api.close();
  });

  const run = (
    opts: { createSource?: (t: GadgetPodTarget) => RowSource; nodeName?: string } = {},
  ): GadgetPodFanout => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const f = createKubernetesGadgetFanout({
      kubeConfig,
      counters,
      ...(opts.nodeName ? { nodeName: opts.nodeName } : {}),
      createSource:
        opts.createSource ??
        ((t) => {
          targets.push(t);
          return createLineRowSource(t.address, t.nodeName);
        }),
    });
    fanout = f;
    consumed = (async () => {
      for await (const b of f.batches()) seen.push(describeBatch(b));
    })();
    return f;
  };

  it('runs one source per node and interleaves their batches; stop() lets every final flush out', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: nodeA.port } });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', target: { port: nodeB.port } });
    const f = run();
    await waitFor(
      'both hellos',
      () => seen.includes('node-a:row node-a hello') && seen.includes('node-b:row node-b hello'),
    );
    assert.deepEqual(
      f
        .pods()
        .map((p) => p.podName)
        .sort(),
      ['gadget-a', 'gadget-b'],
    );
    assert.deepEqual(targets.map((t) => t.podName).sort(), ['gadget-a', 'gadget-b']);
    assert.ok(targets.every((t) => /^tcp:\/\/127\.0\.0\.1:\d+$/.test(t.address)));
    nodeA.emit('a 1');
    nodeB.emit('b 1');
    nodeA.emit('a 2');
    await waitFor('rows', () => seen.includes('node-a:row a 2') && seen.includes('node-b:row b 1'));
    await f.stop();
    await consumed;
    assert.ok(seen.includes('node-a:final node-a'), 'node-a final flush');
    assert.ok(seen.includes('node-b:final node-b'), 'node-b final flush');
    // Per node, batches keep their order.
    const aOnly = seen.filter((s) => s.startsWith('node-a:'));
    assert.deepEqual(aOnly, [
      'node-a:row node-a hello',
      'node-a:row a 1',
      'node-a:row a 2',
      'node-a:final node-a',
    ]);
    assert.equal(counters.get('k8s_pods_seen'), 2);
    assert.equal(counters.get('k8s_pods_lost'), 0);
    assert.equal(counters.total('k8s_pod_sources_failed'), 0);
    await waitFor('port-forwards to close', () => api.portForwardsOpen === 0);
  });

  it('stops the source of a pod that disappears (with its final flush) while others continue, and picks up its successor', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: nodeA.port } });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', target: { port: nodeB.port } });
    const f = run();
    await waitFor('both hellos', () => seen.filter((s) => s.endsWith('hello')).length === 2);
    api.deletePod('gadget-b', { graceful: true });
    await waitFor('node-b final flush', () => seen.includes('node-b:final node-b'));
    await waitFor('gadget-b gone from the fan-out', () => f.pods().length === 1);
    assert.equal(counters.get('k8s_pods_lost'), 1);
    nodeA.emit('a after');
    await waitFor('node-a still flowing', () => seen.includes('node-a:row a after'));
    // The DaemonSet replaces the pod on node-b.
    api.addPod({ name: 'gadget-b2', nodeName: 'node-b', target: { port: nodeB.port } });
    await waitFor('the successor', () => seen.filter((s) => s === 'node-b:row node-b hello').length === 2);
    assert.equal(nodeB.connections, 2);
    assert.equal(counters.get('k8s_pods_seen'), 3);
    assert.deepEqual(
      f
        .pods()
        .map((p) => p.podName)
        .sort(),
      ['gadget-a', 'gadget-b2'],
    );
  });

  it('keeps the other pods running when one pod source fails, and restarts the failed one', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: nodeA.port } });
    api.addPod({ name: 'gadget-broken', nodeName: 'node-c' }); // its port 8080 refuses
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const discovery = createGadgetPodDiscovery({ kubeConfig, counters });
    const f = createGadgetPodFanout({
      discovery,
      forward: (pod) =>
        startPodPortForward({ kubeConfig, namespace: pod.namespace, podName: pod.podName, counters }),
      createSource: (t) => createLineRowSource(t.address, t.nodeName),
      counters,
      restartInitialMs: 20,
    });
    fanout = f;
    consumed = (async () => {
      for await (const b of f.batches()) seen.push(describeBatch(b));
    })();
    await waitFor(
      'two failures of the broken source',
      () => counters.get('k8s_pod_sources_failed', { node: 'node-c' }) >= 2,
    );
    assert.ok(counters.get('k8s_pod_sources_restarted', { node: 'node-c' }) >= 1);
    assert.ok(counters.get('k8s_portforward_errors', { pod: 'gadget-broken' }) >= 1);
    nodeA.emit('a ok');
    await waitFor('node-a rows', () => seen.includes('node-a:row a ok'));
    // Once the pod's daemon listens, the restarted source gets through.
    api.setPortForwardTarget('gadget-broken', { port: nodeB.port });
    await waitFor('the repaired pod', () => seen.includes('node-c:row node-b hello'));
    await f.stop();
    await consumed;
    assert.ok(seen.includes('node-a:final node-a'));
  });

  it('survives a createSource that throws', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: nodeA.port } });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', target: { port: nodeB.port } });
    run({
      createSource: (t) => {
        if (t.nodeName === 'node-b') throw new Error('no gadget image for node-b');
        return createLineRowSource(t.address, t.nodeName);
      },
    });
    await waitFor('node-a hello', () => seen.includes('node-a:row node-a hello'));
    await waitFor(
      'the failure count',
      () => counters.get('k8s_pod_sources_failed', { node: 'node-b' }) === 1,
    );
  });

  it('starts with no pods (the caller can say so) and picks pods up as they appear', async () => {
    const f = run({ nodeName: 'node-a' });
    const initial = await f.start();
    assert.equal(initial.length, 0);
    assert.equal(
      noGadgetPodsMessage('gadget', 'node-a'),
      'no gadget pods found in namespace gadget on node node-a: is Inspektor Gadget deployed? (kubectl gadget deploy)',
    );
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', target: { port: nodeB.port } }); // other node: ignored
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: nodeA.port } });
    await waitFor('node-a hello', () => seen.includes('node-a:row node-a hello'));
    assert.equal(nodeB.connections, 0);
  });

  it('ends batches() with the error when the first list fails', async () => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const f = createKubernetesGadgetFanout({
      kubeConfig,
      namespace: 'gadget',
      createSource: () => ({ batches: async function* () {}, stop: async () => {} }),
    });
    await api.close();
    api = await startK8sApiDouble(); // a different server: the old kubeconfig now points nowhere
    const batches: RowBatch[] = [];
    await assert.rejects(async () => {
      for await (const b of f.batches()) batches.push(b);
    }, /cannot list gadget pods in namespace gadget/);
    assert.equal(batches.length, 0);
    await f.stop();
  });
});

describe('gadget pod fan-out with fake discovery and forwards', () => {
  const pod = { namespace: 'gadget', podName: 'gadget-z', nodeName: 'node-z', uid: 'u1' };
  const fakeDiscovery = (): GadgetPodDiscovery => ({
    start: (onEvent) => {
      onEvent({ type: 'added', pod });
      return Promise.resolve([pod]);
    },
    pods: () => [pod],
    stop: () => Promise.resolve(),
  });
  const batch = (n: number): RowBatch => ({
    spec: PROFILE_CPU_SPEC,
    rows: [gadgetRow({ n })],
    windowStartUnixNano: 0n,
    windowEndUnixNano: 0n,
    origin: `fake ${n}`,
  });

  it('stop() does not wait on a consumer that is not reading; everything buffered is still delivered', async () => {
    let stopped = false;
    let produced = 0;
    const f = createGadgetPodFanout({
      discovery: fakeDiscovery(),
      forward: () => Promise.resolve({ address: 'tcp://127.0.0.1:1', close: () => Promise.resolve() }),
      maxBufferedBatches: 2,
      createSource: () => ({
        async *batches() {
          for (let i = 1; i <= 10; i++) {
            produced = i;
            yield batch(i);
          }
          while (!stopped) await new Promise((r) => setTimeout(r, 5));
          yield batch(99); // final flush
        },
        stop: () => {
          stopped = true;
          return Promise.resolve();
        },
      }),
    });
    const it = f.batches()[Symbol.asyncIterator]();
    const first = await it.next(); // starts the fan-out; the pump then fills the buffer and blocks
    assert.equal(getField((first.value as RowBatch).rows[0]!, 'n'), 1);
    // Backpressure: with nobody reading, the pump stops at the buffer limit (2) plus the batch in hand.
    await waitFor('the pump to fill the buffer', () => produced >= 3);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(produced <= 4, `produced ${produced}`);
    await f.stop();
    const rest: number[] = [];
    for (let r = await it.next(); !r.done; r = await it.next())
      rest.push(getField(r.value.rows[0]!, 'n') as number);
    assert.deepEqual(rest, [2, 3, 4, 5, 6, 7, 8, 9, 10, 99]);
  });

  it('closes the forward of a source that ignores stop(), and abandons one that ignores even that', async () => {
    const lines: string[] = [];
    let forwardClosed = false;
    let releaseOnClose = true;
    const make = () =>
      createGadgetPodFanout({
        discovery: fakeDiscovery(),
        forward: () =>
          Promise.resolve({
            address: 'tcp://127.0.0.1:1',
            close: () => {
              forwardClosed = true;
              return Promise.resolve();
            },
          }),
        stopTimeoutMs: 30,
        logger: createLogger({ level: 'debug', write: (l) => void lines.push(l) }),
        createSource: () => ({
          async *batches() {
            yield batch(1);
            // Stuck on its connection: only the forward closing ends it (unless told to ignore).
            while (!(forwardClosed && releaseOnClose)) await new Promise((r) => setTimeout(r, 5));
          },
          stop: () => Promise.resolve(),
        }),
      });
    for (const ignoreClose of [false, true]) {
      forwardClosed = false;
      releaseOnClose = !ignoreClose;
      lines.length = 0;
      const f = make();
      const got: number[] = [];
      const consumed = (async () => {
        for await (const b of f.batches()) got.push(getField(b.rows[0]!, 'n') as number);
      })();
      await waitFor('the first batch', () => got.length === 1);
      await f.stop();
      await consumed;
      assert.equal(forwardClosed, true);
      assert.ok(lines.some((l) => /did not finish in time; closing its forward/.test(l)));
      assert.equal(
        lines.some((l) => /still running after its forward closed; abandoning it/.test(l)),
        ignoreClose,
      );
      releaseOnClose = true; // let the abandoned generator finish
    }
  });
});
