import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnyValue, KeyValue } from '../../src/profiles/otlp-model.js';
import {
  parsePodLabels,
  ResourceResolver,
  splitImageReference,
} from '../../src/profiles/resource-attributes.js';
import { DEFAULT_RESOURCE_CONFIG, exampleEmissions } from '../support/profiles-fixtures.js';

function attrs(list: KeyValue[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const v = kv.value as AnyValue;
    out[kv.key] =
      'stringValue' in v
        ? v.stringValue
        : 'intValue' in v
          ? `int:${v.intValue}`
          : 'arrayValue' in v
            ? JSON.stringify(v.arrayValue.values)
            : '?';
  }
  return out;
}

const emissions = exampleEmissions();
const k8sRows = emissions[4] ?? [];
const checkout = k8sRows.find((r) => (r.k8s as { podName?: string }).podName?.startsWith('checkout'));

describe('ResourceResolver', () => {
  it('maps IG k8s and runtime fields to semantic conventions, with the owner as k8s.<kind>.name', () => {
    assert.ok(checkout, 'the kubectl example has a checkout pod');
    const r = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
    const a = attrs(r.attributesOf(r.newObservation(checkout)));
    assert.equal(a['k8s.namespace.name'], 'shop');
    assert.equal(a['k8s.pod.name'], 'checkout-6d8f7c9b4d-x2k9p');
    assert.equal(a['k8s.deployment.name'], 'checkout');
    assert.equal(a['k8s.node.name'], 'aks-nodepool1-24318594-vmss000001');
    assert.equal(a['k8s.pod.label.app'], 'checkout');
    assert.match(a['container.id'] ?? '', /^[0-9a-f]{64}$/);
    assert.equal(a['process.pid']?.startsWith('int:'), true);
    assert.equal(a['service.name'], 'checkout', 'pod label app wins in the default chain');
  });

  it('never falls back to unknown_service when Kubernetes data exists', () => {
    const r = new ResourceResolver({
      config: { ...DEFAULT_RESOURCE_CONFIG, serviceName: ['label:missing', 'owner', 'k8s.container.name'] },
    });
    for (const row of k8sRows) {
      const name = r.serviceNameOf(r.newObservation(row));
      assert.notEqual(name, 'unknown_service');
    }
  });

  it('the chain is configurable and falls through in order', () => {
    const row = emissions[0]?.[0];
    assert.ok(row);
    const env = new ResourceResolver({
      config: { ...DEFAULT_RESOURCE_CONFIG, serviceName: ['label:x', 'env'] },
      serviceNameFromEnv: 'from-env',
    });
    assert.equal(env.serviceNameOf(env.newObservation(row)), 'from-env');
    const container = new ResourceResolver({
      config: { ...DEFAULT_RESOURCE_CONFIG, serviceName: ['owner', 'container.name'] },
    });
    assert.equal(container.serviceNameOf(container.newObservation(row)), 'random');
    const none = new ResourceResolver({ config: { ...DEFAULT_RESOURCE_CONFIG, serviceName: ['owner'] } });
    assert.equal(none.serviceNameOf(none.newObservation(row)), 'unknown_service');
  });

  it('groups per process by default and per container on request (host processes share one resource)', () => {
    const rows = emissions.flat();
    const perProcess = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
    const perContainer = new ResourceResolver({
      config: { ...DEFAULT_RESOURCE_CONFIG, groupBy: 'container' },
    });
    const pids = new Set(
      rows.map(
        (r) =>
          `${(r.k8s as { node: string }).node}/${(r.runtime as { containerId: string }).containerId}/${(r.proc as { pid: number }).pid}`,
      ),
    );
    const containers = new Set(
      rows.map(
        (r) => `${(r.k8s as { node: string }).node}/${(r.runtime as { containerId: string }).containerId}`,
      ),
    );
    assert.equal(new Set(rows.map((r) => perProcess.keyOf(r))).size, pids.size);
    assert.equal(new Set(rows.map((r) => perContainer.keyOf(r))).size, containers.size);
  });

  it('static attributes fill in, row data wins', () => {
    const row = emissions[0]?.[0];
    assert.ok(row);
    const r = new ResourceResolver({
      config: {
        ...DEFAULT_RESOURCE_CONFIG,
        attributes: { 'deployment.environment.name': 'prod', 'container.name': 'override' },
      },
    });
    const a = attrs(r.attributesOf(r.newObservation(row)));
    assert.equal(a['deployment.environment.name'], 'prod');
    assert.equal(a['container.name'], 'random');
  });

  it('splits image references and parses pod labels', () => {
    assert.deepEqual(splitImageReference('docker.io/library/busybox:latest'), {
      name: 'docker.io/library/busybox',
      tag: 'latest',
    });
    assert.deepEqual(splitImageReference('registry:5000/team/app'), { name: 'registry:5000/team/app' });
    assert.deepEqual(splitImageReference('gcc:13'), { name: 'gcc', tag: '13' });
    assert.deepEqual(
      [...parsePodLabels('app=checkout,pod-template-hash=6d8f')],
      [
        ['app', 'checkout'],
        ['pod-template-hash', '6d8f'],
      ],
    );
  });
});
