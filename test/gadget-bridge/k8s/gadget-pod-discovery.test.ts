import { describe, it, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  createGadgetPodDiscovery,
  noGadgetPodsMessage,
} from '../../../src/gadget-bridge/k8s/gadget-pod-discovery.js';
import type {
  GadgetPodDiscovery,
  GadgetPodEvent,
} from '../../../src/gadget-bridge/k8s/gadget-pod-discovery.js';
import { loadKubeConfig } from '../../../src/gadget-bridge/k8s/kube-config.js';
import { Counters } from '../../../src/observability/counters.js';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';
import { waitFor } from '../../support/k8s-tcp-fixtures.js';

const show = (e: GadgetPodEvent): string =>
  e.type === 'added' ? `+${e.pod.podName}@${e.pod.nodeName}` : `-${e.pod.podName}(${e.reason})`;

describe('gadget pod discovery', () => {
  let api: K8sApiDouble;
  let discovery: GadgetPodDiscovery | undefined;
  let events: string[];

  beforeEach(async () => {
    api = await startK8sApiDouble();
    events = [];
  });
  afterEach(async () => {
    await discovery?.stop();
    discovery = undefined;
    await api.close();
  });

  const start = async (opts: { nodeName?: string; namespace?: string; counters?: Counters } = {}) => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    discovery = createGadgetPodDiscovery({ kubeConfig, ...opts });
    return discovery.start((e) => events.push(show(e)));
  };

  it('lists ready gadget pods only: label, namespace, phase and readiness', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b' });
    api.addPod({ name: 'gadget-pending', nodeName: 'node-c', phase: 'Pending', ready: false });
    api.addPod({ name: 'gadget-unready', nodeName: 'node-d', ready: false });
    api.addPod({ name: 'other-app', nodeName: 'node-a', labels: { 'k8s-app': 'other' } });
    api.addPod({ name: 'gadget-elsewhere', nodeName: 'node-a', namespace: 'default' });
    const initial = await start();
    assert.deepEqual(initial.map((p) => `${p.namespace}/${p.podName}@${p.nodeName}`).sort(), [
      'gadget/gadget-a@node-a',
      'gadget/gadget-b@node-b',
    ]);
    assert.deepEqual(events.sort(), ['+gadget-a@node-a', '+gadget-b@node-b']);
    const listed = api.requests.find(
      (r) => r.path === '/api/v1/namespaces/gadget/pods' && r.query.watch === undefined,
    );
    assert.equal(listed?.query.labelSelector, 'k8s-app=gadget');
  });

  it('watches: added, becoming ready, graceful and plain deletion', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    await start();
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', ready: false });
    api.updatePod('gadget-b', { ready: true });
    await waitFor('gadget-b ready', () => events.includes('+gadget-b@node-b'));
    api.deletePod('gadget-a', { graceful: true });
    await waitFor('gadget-a removal', () => events.some((e) => e.startsWith('-gadget-a')));
    api.updatePod('gadget-b', { ready: false });
    await waitFor('gadget-b unready', () => events.some((e) => e.startsWith('-gadget-b')));
    api.updatePod('gadget-b', { ready: true });
    api.deletePod('gadget-b');
    await waitFor('gadget-b deletion', () => events.filter((e) => e.startsWith('-gadget-b')).length === 2);
    // A terminating pod is dropped at its deletionTimestamp (MODIFIED), not again at DELETED.
    assert.deepEqual(events, [
      '+gadget-a@node-a',
      '+gadget-b@node-b',
      '-gadget-a(not-ready)',
      '-gadget-b(not-ready)',
      '+gadget-b@node-b',
      '-gadget-b(deleted)',
    ]);
    assert.deepEqual(discovery!.pods(), []);
  });

  it('filters by node with spec.nodeName in list and watch', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b' });
    const initial = await start({ nodeName: 'node-b' });
    assert.deepEqual(
      initial.map((p) => p.podName),
      ['gadget-b'],
    );
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    const watch = api.requests.find((r) => r.query.watch !== undefined);
    assert.equal(watch?.query.fieldSelector, 'spec.nodeName=node-b');
    api.addPod({ name: 'gadget-a2', nodeName: 'node-a' });
    api.deletePod('gadget-b');
    api.addPod({ name: 'gadget-b2', nodeName: 'node-b' });
    await waitFor('gadget-b2', () => events.includes('+gadget-b2@node-b'));
    assert.deepEqual(events, ['+gadget-b@node-b', '-gadget-b(deleted)', '+gadget-b2@node-b']);
  });

  it('resumes a watch the server ended from its resourceVersion without replaying', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    await start();
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    api.addPod({ name: 'gadget-b', nodeName: 'node-b' });
    await waitFor('gadget-b', () => events.length === 2);
    api.closeWatches();
    // A pod added while no watch is open arrives through the resumed watch's replay.
    api.addPod({ name: 'gadget-c', nodeName: 'node-c' });
    await waitFor('gadget-c', () => events.includes('+gadget-c@node-c'));
    const watches = api.requests.filter((r) => r.query.watch !== undefined);
    assert.ok(watches.length >= 2);
    assert.ok(watches.every((w) => w.query.resourceVersion !== undefined && w.query.resourceVersion !== ''));
    assert.deepEqual(events, ['+gadget-a@node-a', '+gadget-b@node-b', '+gadget-c@node-c']);
  });

  it('re-lists on 410 Gone and reports the difference', async () => {
    const counters = new Counters();
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b' });
    await start({ counters });
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    // Changes the watch never saw, then the watch learns its resourceVersion is too old.
    api.closeWatches();
    api.deletePod('gadget-a');
    api.addPod({ name: 'gadget-c', nodeName: 'node-c' });
    api.expireHistory({ notifyOpenWatches: true });
    await waitFor('the re-list', () => events.length === 4);
    assert.deepEqual(events, [
      '+gadget-a@node-a',
      '+gadget-b@node-b',
      '-gadget-a(gone-on-relist)',
      '+gadget-c@node-c',
    ]);
    assert.ok(counters.get('k8s_pod_relists') >= 1);
    await waitFor('the watch to reopen', () => api.watchesOpen === 1);
    // This time the open watch itself receives the 410 ERROR event.
    const relists = counters.get('k8s_pod_relists');
    api.expireHistory({ notifyOpenWatches: true });
    await waitFor('the second re-list', () => counters.get('k8s_pod_relists') === relists + 1);
    await waitFor('the watch to reopen again', () => api.watchesOpen === 1);
    api.addPod({ name: 'gadget-d', nodeName: 'node-d' });
    await waitFor('gadget-d', () => events.includes('+gadget-d@node-d'));
    assert.equal(events.length, 5);
  });

  const quickRetry = {
    enabled: true,
    initialIntervalMs: 50,
    multiplier: 2,
    maxIntervalMs: 200,
    maxElapsedMs: 0,
    jitter: 0,
  };

  it('retries a refused watch on its backoff and picks the pods up once allowed', async () => {
    const counters = new Counters();
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' });
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    discovery = createGadgetPodDiscovery({ kubeConfig, counters, retry: quickRetry });
    await discovery.start((e) => events.push(show(e)));
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    api.setPodsForbidden(true);
    api.dropWatches();
    await waitFor('refused re-watches', () => counters.get('k8s_watch_errors') >= 3);
    api.setPodsForbidden(false);
    api.addPod({ name: 'gadget-b', nodeName: 'node-b' });
    await waitFor('gadget-b', () => events.includes('+gadget-b@node-b'));
    assert.deepEqual(events, ['+gadget-a@node-a', '+gadget-b@node-b']);
  });

  it('stop() ends a retry wait at once', async () => {
    const counters = new Counters();
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const retry = { ...quickRetry, initialIntervalMs: 600_000, maxIntervalMs: 600_000 };
    discovery = createGadgetPodDiscovery({ kubeConfig, counters, retry });
    const seen: string[] = [];
    await discovery.start((e) => seen.push(show(e)));
    await waitFor('the watch to open', () => api.watchesOpen === 1);
    api.addPod({ name: 'gadget-a', nodeName: 'node-a' }); // a watch with events: its drop is no failure
    await waitFor('gadget-a', () => seen.length === 1);
    api.setPodsForbidden(true);
    api.dropWatches();
    await waitFor('a refused re-watch', () => counters.get('k8s_watch_errors') === 1);
    // Now waiting 10 minutes before the next attempt.
    const outcome = await Promise.race([
      discovery.stop().then(() => 'stopped'),
      new Promise((resolve) => setTimeout(resolve, 60_000, 'still waiting')),
    ]);
    assert.equal(outcome, 'stopped');
  });

  it('fails start() with the namespace and the RBAC hint when the list is refused', async () => {
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    kubeConfig.getCurrentUser();
    const users = kubeConfig.getUsers().map((u) => ({ ...u, token: 'wrong' }));
    kubeConfig.loadFromOptions({
      clusters: kubeConfig.getClusters(),
      users,
      contexts: kubeConfig.getContexts(),
      currentContext: kubeConfig.getCurrentContext(),
    });
    discovery = createGadgetPodDiscovery({ kubeConfig });
    await assert.rejects(
      discovery.start(() => undefined),
      /cannot list gadget pods in namespace gadget .*HTTP 401.*"list" and "watch" on pods/,
    );
  });

  it('builds the "no gadget pods" message', () => {
    assert.equal(
      noGadgetPodsMessage('gadget'),
      'no gadget pods found in namespace gadget: is Inspektor Gadget deployed? (kubectl gadget deploy)',
    );
    assert.equal(
      noGadgetPodsMessage('ig', 'node-7'),
      'no gadget pods found in namespace ig on node node-7: is Inspektor Gadget deployed? (kubectl gadget deploy)',
    );
  });

  it('lets the caller report "no gadget pods" from an empty namespace', async () => {
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', namespace: 'default' });
    const initial = await start();
    assert.equal(initial.length, 0);
  });
});
