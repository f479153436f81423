import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldRecord } from '../../../src/rows/gadget-row.js';
import type { AnyValue, KeyValue } from '../../../src/profiles/model/otlp-model.js';
import {
  fieldToAnyValue,
  parsePodLabels,
  ResourceResolver,
  splitImageReference,
} from '../../../src/profiles/aggregation/resource-attributes.js';
import { DEFAULT_RESOURCE_CONFIG, exampleEmissions } from '../../support/profiles-fixtures.js';
import { gadgetRow, getField, getString, rowFields } from '../../../src/rows/gadget-row.js';

function attrs(list: readonly KeyValue[]): Record<string, string> {
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
const checkout = k8sRows.find((r) => getString(r, 'k8s.podName').startsWith('checkout'));

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
          `${getString(r, 'k8s.node')}/${getString(r, 'runtime.containerId')}/${getString(r, 'proc.pid')}`,
      ),
    );
    const containers = new Set(
      rows.map((r) => `${getString(r, 'k8s.node')}/${getString(r, 'runtime.containerId')}`),
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

  it('a list built once serves every row that agrees on the attribute fields, and only those', () => {
    // Rows drawn from small pools, so the caching resolver sees most combinations many times; a
    // resolver built afresh for every row (nothing cached) is the reference.
    const base = k8sRows[0] ?? emissions[0]?.[0];
    assert.ok(base);
    const pools = {
      node: ['node-a', 'node-b'],
      podName: ['web-1', 'web-2'],
      podLabels: ['app=web', 'app=web,team=x', ''],
      ownerKind: ['Deployment', 'StatefulSet', ''],
      containerId: ['c1', ''],
      image: ['docker.io/library/nginx:1.25', 'registry:5000/app'],
      comm: ['nginx', 'worker'],
      pid: [10, 11],
      ppid: [1, 0],
      user: ['root', 'uid:1000'],
      custom: ['svc-from-field', ''],
    };
    let seed = 11;
    const pick = <T>(pool: readonly T[]): T => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return pool[seed % pool.length]!;
    };
    const configs = [
      DEFAULT_RESOURCE_CONFIG,
      { ...DEFAULT_RESOURCE_CONFIG, groupBy: 'container' as const },
      {
        ...DEFAULT_RESOURCE_CONFIG,
        serviceName: ['field:custom.name', 'label:team', 'owner', 'process.executable.name'],
      },
    ];
    for (const config of configs) {
      const cached = new ResourceResolver({ config });
      const lists = new Set<readonly KeyValue[]>();
      for (let i = 0; i < 400; i++) {
        const row = gadgetRow({
          ...rowFields(base),
          k8s: {
            ...(getField(base, 'k8s') as FieldRecord),
            node: pick(pools.node),
            podName: pick(pools.podName),
            podLabels: pick(pools.podLabels),
            owner: { kind: pick(pools.ownerKind), name: 'web' },
          },
          runtime: {
            ...(getField(base, 'runtime') as FieldRecord),
            containerId: pick(pools.containerId),
            containerImageName: pick(pools.image),
          },
          proc: {
            ...(getField(base, 'proc') as FieldRecord),
            comm: pick(pools.comm),
            pid: pick(pools.pid),
            parent: { pid: pick(pools.ppid) },
            creds: { user: pick(pools.user) },
          },
          custom: { name: pick(pools.custom) },
        });
        const got = cached.attributesOf(cached.newObservation(row));
        const fresh = new ResourceResolver({ config });
        assert.deepEqual(got, fresh.attributesOf(fresh.newObservation(row)), `row ${i}`);
        assert.ok(Object.isFrozen(got), 'shared lists cannot be changed by a consumer');
        lists.add(got);
      }
      assert.ok(lists.size < 400, 'rows with equal fields share one list');
    }
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

describe('fieldToAnyValue: integers past int64', () => {
  it('an integer that fits int64 is an intValue; a u64 past 2^63 keeps its exact digits as text', () => {
    assert.deepEqual(fieldToAnyValue((1n << 63n) - 1n), { intValue: (1n << 63n) - 1n });
    assert.deepEqual(fieldToAnyValue(-(1n << 63n)), { intValue: -(1n << 63n) });
    assert.deepEqual(fieldToAnyValue(18446744072005365524n), { stringValue: '18446744072005365524' });
    assert.deepEqual(fieldToAnyValue(1e19), { stringValue: '10000000000000000000' });
    assert.deepEqual(fieldToAnyValue(42), { intValue: 42n });
  });
});
