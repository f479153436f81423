import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PodMetadataInformer } from '../../../src/gadget-bridge/k8s/pod-metadata-informer.js';
import { podMetadataOf } from '../../../src/gadget-bridge/k8s/read-pod-metadata.js';
import type { FakePodSpec } from '../../support/k8s-api-double.js';
import { waitFor } from '../../support/k8s-tcp-fixtures.js';
import {
  containerRow,
  podMetadataResolver,
  informerTestbed,
  stringAttributes,
} from '../../support/pod-metadata-fixtures.js';

const NODE = 'node-a';
const id = (n: number): string => n.toString(16).padStart(64, 'c');

/** A pod of a workload with one container `app` whose id (in the status) is `id(n)`. */
function workloadPod(n: number, spec: Omit<FakePodSpec, 'nodeName'>): FakePodSpec {
  return {
    nodeName: NODE,
    uid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    containers: [{ name: 'app', containerID: `containerd://${id(n)}` }],
    ...spec,
  };
}

describe('service.name and resource attributes from pod metadata (semantic-conventions chain)', () => {
  const bed = informerTestbed();

  const synced = async (): Promise<PodMetadataInformer> => {
    const informer = bed.informerOn(NODE);
    assert.equal(await informer.waitForSync(5_000), true);
    return informer;
  };

  /** The row IG reports for container `id(n)` of a pod. */
  const rowOf = (n: number, pod: { namespace: string; name: string; container?: string }) =>
    containerRow({
      node: NODE,
      namespace: pod.namespace,
      podName: pod.name,
      containerName: pod.container ?? 'app',
      containerId: id(n),
    });

  const resolve = async (
    n: number,
    pod: { namespace: string; name: string; container?: string },
    serviceName?: readonly string[],
  ): Promise<Record<string, string>> => {
    const resolver = podMetadataResolver(await synced(), serviceName);
    return stringAttributes(resolver.attributesOf(resolver.newObservation(rowOf(n, pod))));
  };

  it('a Deployment pod with the resource.opentelemetry.io annotations', async () => {
    bed.api.addPod(
      workloadPod(1, {
        name: 'checkout-7d4f9c8b6-x2k9p',
        namespace: 'shop',
        labels: {
          'app.kubernetes.io/name': 'checkout-ui',
          'app.kubernetes.io/instance': 'checkout-eu',
          'app.kubernetes.io/version': '2.4.1',
          'pod-template-hash': '7d4f9c8b6',
        },
        annotations: {
          'resource.opentelemetry.io/service.name': 'checkout-svc',
          'resource.opentelemetry.io/service.namespace': 'commerce',
          'resource.opentelemetry.io/team': 'payments',
          'prometheus.io/scrape': 'true',
        },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'checkout-7d4f9c8b6' }],
      }),
    );
    assert.deepEqual(await resolve(1, { namespace: 'shop', name: 'checkout-7d4f9c8b6-x2k9p' }), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'checkout-7d4f9c8b6-x2k9p',
      'k8s.container.name': 'app',
      'service.namespace': 'commerce',
      team: 'payments',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000001',
      'k8s.deployment.name': 'checkout',
      'k8s.replicaset.name': 'checkout-7d4f9c8b6',
      'service.version': '2.4.1',
      'container.id': id(1),
      'service.name': 'checkout-svc',
    });
  });

  it('a Deployment pod with only the well-known labels: the Deployment by default, the labels when opted in', async () => {
    bed.api.addPod(
      workloadPod(2, {
        name: 'cart-5b9c7d6f8-qq7xz',
        namespace: 'shop',
        labels: {
          'app.kubernetes.io/name': 'cart-ui',
          'app.kubernetes.io/instance': 'cart-eu',
          'pod-template-hash': '5b9c7d6f8',
        },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'cart-5b9c7d6f8' }],
      }),
    );
    const pod = { namespace: 'shop', name: 'cart-5b9c7d6f8-qq7xz' };
    assert.deepEqual(await resolve(2, pod), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'cart-5b9c7d6f8-qq7xz',
      'k8s.container.name': 'app',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000002',
      'k8s.deployment.name': 'cart',
      'k8s.replicaset.name': 'cart-5b9c7d6f8',
      'service.namespace': 'shop',
      'container.id': id(2),
      'service.name': 'cart',
    });
    const optedIn = await resolve(2, pod, ['k8s.env', 'k8s.semconv.labels', 'process.executable.name']);
    assert.equal(
      optedIn['service.name'],
      'cart-eu',
      'app.kubernetes.io/instance before app.kubernetes.io/name',
    );
  });

  it('a StatefulSet pod', async () => {
    bed.api.addPod(
      workloadPod(3, {
        name: 'db-0',
        namespace: 'data',
        ownerReferences: [{ kind: 'StatefulSet', name: 'db' }],
      }),
    );
    assert.deepEqual(await resolve(3, { namespace: 'data', name: 'db-0' }), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'data',
      'k8s.pod.name': 'db-0',
      'k8s.container.name': 'app',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000003',
      'k8s.statefulset.name': 'db',
      'service.namespace': 'data',
      'container.id': id(3),
      'service.name': 'db',
    });
  });

  it("a Job pod, and a CronJob's Job pod (the CronJob comes before the Job)", async () => {
    bed.api.addPod(
      workloadPod(4, {
        name: 'migrate-x7k2p',
        namespace: 'ops',
        ownerReferences: [{ kind: 'Job', name: 'migrate' }],
      }),
    );
    bed.api.addPod(
      workloadPod(5, {
        name: 'report-28512345-abcde',
        namespace: 'ops',
        ownerReferences: [{ kind: 'Job', name: 'report-28512345' }],
      }),
    );
    assert.deepEqual(await resolve(4, { namespace: 'ops', name: 'migrate-x7k2p' }), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'ops',
      'k8s.pod.name': 'migrate-x7k2p',
      'k8s.container.name': 'app',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000004',
      'k8s.job.name': 'migrate',
      'service.namespace': 'ops',
      'container.id': id(4),
      'service.name': 'migrate',
    });
    const cron = await resolve(5, { namespace: 'ops', name: 'report-28512345-abcde' });
    assert.equal(cron['k8s.job.name'], 'report-28512345');
    assert.equal(cron['k8s.cronjob.name'], 'report');
    assert.equal(cron['service.name'], 'report');
  });

  it('a bare pod: the pod name', async () => {
    bed.api.addPod(workloadPod(6, { name: 'debug-shell', namespace: 'default' }));
    assert.deepEqual(await resolve(6, { namespace: 'default', name: 'debug-shell' }), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'default',
      'k8s.pod.name': 'debug-shell',
      'k8s.container.name': 'app',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000006',
      'service.namespace': 'default',
      'container.id': id(6),
      'service.name': 'debug-shell',
    });
  });

  it('an auto-instrumented container: the OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES its SDK reports, fieldRefs resolved', async () => {
    // What the OpenTelemetry Operator injects (its env layout), plus a sidecar whose name comes from a ConfigMap.
    bed.api.addPod(
      workloadPod(7, {
        name: 'payments-5f6d7c8b9-abcde',
        namespace: 'shop',
        labels: { 'pod-template-hash': '5f6d7c8b9', 'app.kubernetes.io/version': '0.9' },
        ownerReferences: [{ kind: 'ReplicaSet', name: 'payments-5f6d7c8b9' }],
        containers: [
          {
            name: 'app',
            containerID: `containerd://${id(7)}`,
            env: [
              { name: 'OTEL_SERVICE_NAME', value: 'payments-api' },
              {
                name: 'OTEL_RESOURCE_ATTRIBUTES_POD_NAME',
                valueFrom: { fieldRef: { fieldPath: 'metadata.name' } },
              },
              {
                name: 'OTEL_RESOURCE_ATTRIBUTES_NODE_NAME',
                valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } },
              },
              {
                name: 'OTEL_RESOURCE_ATTRIBUTES_POD_UID',
                valueFrom: { fieldRef: { fieldPath: 'metadata.uid' } },
              },
              {
                name: 'OTEL_RESOURCE_ATTRIBUTES',
                value:
                  'k8s.container.name=app,k8s.deployment.name=payments,k8s.namespace.name=shop,' +
                  'k8s.node.name=$(OTEL_RESOURCE_ATTRIBUTES_NODE_NAME),k8s.pod.name=$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME),' +
                  'k8s.pod.uid=$(OTEL_RESOURCE_ATTRIBUTES_POD_UID),k8s.replicaset.name=payments-5f6d7c8b9,' +
                  'service.instance.id=shop.$(OTEL_RESOURCE_ATTRIBUTES_POD_NAME).app,service.version=1.2.0,' +
                  'deployment.environment.name=prod,cost=$$5',
              },
            ],
          },
          {
            name: 'proxy',
            containerID: `containerd://${id(8)}`,
            env: [
              { name: 'OTEL_SERVICE_NAME', valueFrom: { configMapKeyRef: { name: 'names', key: 'proxy' } } },
            ],
          },
        ],
      }),
    );
    assert.deepEqual(await resolve(7, { namespace: 'shop', name: 'payments-5f6d7c8b9-abcde' }), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'payments-5f6d7c8b9-abcde',
      'k8s.container.name': 'app',
      'k8s.deployment.name': 'payments',
      'k8s.pod.uid': '00000000-0000-4000-8000-000000000007',
      'k8s.replicaset.name': 'payments-5f6d7c8b9',
      'service.instance.id': 'shop.payments-5f6d7c8b9-abcde.app',
      'service.version': '1.2.0',
      'deployment.environment.name': 'prod',
      cost: '$5',
      'service.namespace': 'shop',
      'container.id': id(7),
      'service.name': 'payments-api',
    });
    // The proxy's OTEL_SERVICE_NAME lives in a ConfigMap we do not read: the conventions' chain decides.
    const proxy = await resolve(8, {
      namespace: 'shop',
      name: 'payments-5f6d7c8b9-abcde',
      container: 'proxy',
    });
    assert.equal(proxy['service.name'], 'payments');
    assert.equal(proxy['service.instance.id'], undefined, "the app container's attributes stay its own");
  });

  it('joins by namespace + pod name when the row has no container id the pod reports', async () => {
    bed.api.addPod(
      workloadPod(9, {
        name: 'worker-0',
        namespace: 'jobs',
        ownerReferences: [{ kind: 'StatefulSet', name: 'worker' }],
      }),
    );
    const resolver = podMetadataResolver(await synced());
    const row = rowOf(99, { namespace: 'jobs', name: 'worker-0' });
    assert.equal(resolver.serviceNameOf(resolver.newObservation(row)), 'worker');
  });

  it('a pod update that changes the annotation changes service.name at once (no stale cached list)', async () => {
    bed.api.addPod(
      workloadPod(10, {
        name: 'search-0',
        namespace: 'shop',
        annotations: { 'resource.opentelemetry.io/service.name': 'search-v1' },
        ownerReferences: [{ kind: 'StatefulSet', name: 'search' }],
      }),
    );
    const resolver = podMetadataResolver(await synced());
    const row = rowOf(10, { namespace: 'shop', name: 'search-0' });
    const nameNow = (): string | undefined =>
      stringAttributes(resolver.attributesOf(resolver.newObservation(row)))['service.name'];
    assert.equal(nameNow(), 'search-v1');
    const cached = resolver.attributesOf(resolver.newObservation(row));
    assert.equal(
      resolver.attributesOf(resolver.newObservation(row)),
      cached,
      'unchanged pod: the cached list',
    );
    // Status churn (readiness) does not rebuild lists; an annotation change does.
    bed.api.updatePod('search-0', { ready: false }, 'shop');
    bed.api.updatePod(
      'search-0',
      { annotations: { 'resource.opentelemetry.io/service.name': 'search-v2' } },
      'shop',
    );
    await waitFor('the new service.name', () => nameNow() === 'search-v2');
    bed.api.updatePod('search-0', { annotations: {} }, 'shop');
    await waitFor('the StatefulSet once the annotation is gone', () => nameNow() === 'search');
  });

  it('keeps only what resources need of a pod, and says which OTEL_* values cannot be resolved', () => {
    const pod = podMetadataOf({
      metadata: {
        name: 'p',
        namespace: 'n',
        uid: 'u',
        labels: { a: 'b', 'app.kubernetes.io/name': 'x' },
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"json"}' },
      },
      spec: {
        nodeName: NODE,
        containers: [
          {
            name: 'c',
            env: [
              { name: 'PATH', value: '/bin' },
              { name: 'OTEL_RESOURCE_ATTRIBUTES', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
            ],
            envFrom: [{ configMapRef: { name: 'otel' } }],
          },
        ],
      },
    });
    assert.deepEqual(pod, {
      uid: 'u',
      namespace: 'n',
      name: 'p',
      nodeName: NODE,
      labels: { 'app.kubernetes.io/name': 'x' },
      resourceAnnotations: {},
      owners: {},
      containers: { c: { resourceAttributes: {} } },
      containerIds: {},
      unresolved: ['c/OTEL_RESOURCE_ATTRIBUTES', 'c/envFrom'],
    });
  });
});
