import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { runCli, tempDir } from '../support/cli-harness.js';
import { startK8sApiDouble } from '../support/k8s-api-double.js';
import type { K8sApiDouble } from '../support/k8s-api-double.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH, exampleEmissions } from '../support/profiles-fixtures.js';
import { stringAttributes } from '../support/pod-metadata-fixtures.js';
import { getInteger } from '../../src/rows/gadget-row.js';

/** A container of the bundled capture: pod shop/recommender-14ddc65e45-7d6f8, label app=recommender. */
const CONTAINER_ID = '6584e9fd76be8a2b69d641abf541becdf3f486bc9b994d72b788ef21486ed8e4';
const NODE = 'aks-nodepool1-24318594-vmss000000';
const inputTotal = exampleEmissions(BUNDLED_CAPTURE_PATH)
  .flat()
  .reduce((a, r) => a + getInteger(r, 'samples')!, 0n);

/** The resource of the capture's container, as exported. */
function containerResource(requests: readonly ExportProfilesServiceRequest[]): Record<string, string> {
  const resources = requests
    .flatMap((r) => r.resourceProfiles)
    .map((rp) => stringAttributes(rp.resource?.attributes ?? []))
    .filter((a) => a['container.id'] === CONTAINER_ID);
  assert.ok(resources.length > 0, 'the container has profiles');
  return resources[0]!;
}

describe('export --k8s-pod-metadata', () => {
  let api: K8sApiDouble;
  const home = tempDir();
  before(async () => {
    api = await startK8sApiDouble();
    api.addPod({
      name: 'recommender-14ddc65e45-7d6f8',
      namespace: 'shop',
      nodeName: NODE,
      uid: '11111111-2222-4333-8444-555555555555',
      labels: { app: 'recommender', 'pod-template-hash': '14ddc65e45' },
      annotations: { 'resource.opentelemetry.io/service.name': 'recs-api' },
      ownerReferences: [{ kind: 'ReplicaSet', name: 'recommender-14ddc65e45' }],
      containers: [{ name: 'recommender', containerID: `containerd://${CONTAINER_ID}` }],
    });
  });
  after(async () => {
    await api.close();
    home.cleanup();
  });

  const exportWith = async (env: Record<string, string>, extra: readonly string[] = []) => {
    const server = await startHttpOtlpServer();
    try {
      const res = await runCli(
        [
          'export',
          '--input',
          BUNDLED_CAPTURE_PATH,
          '--endpoint',
          server.endpoint,
          '--k8s-pod-metadata',
          ...extra,
        ],
        { env: { HOME: home.path, ...env } },
      );
      return { res, requests: server.requests.map((r) => decodeExportRequest(r.body)) };
    } finally {
      await server.close();
    }
  };

  it('joins the rows with the pod of their container id: the annotated service.name and the pod uid', async () => {
    const { res, requests } = await exportWith({ KUBECONFIG: api.kubeconfigPath, NODE_NAME: NODE });
    assert.equal(res.code, 0, res.stderr);
    assert.equal(totalSampleValue(requests), inputTotal);
    const resource = containerResource(requests);
    assert.equal(resource['service.name'], 'recs-api');
    assert.equal(resource['k8s.pod.uid'], '11111111-2222-4333-8444-555555555555');
    assert.equal(resource['service.namespace'], 'shop');
    const list = api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === undefined);
    assert.equal(list?.query.fieldSelector, `spec.nodeName=${NODE}`, 'NODE_NAME selects the pods');
  });

  it('a configured chain still wins over the pod-metadata default', async () => {
    const { res, requests } = await exportWith({ KUBECONFIG: api.kubeconfigPath, NODE_NAME: NODE }, [
      '--set',
      'operator.otel-profiles.exporters.default.resource.service_name=label:pod-template-hash',
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(containerResource(requests)['service.name'], '14ddc65e45');
  });

  it('RBAC forbids pods: every sample is still exported with IG fields, with one warning naming the rule', async () => {
    api.setPodsForbidden(true);
    try {
      const { res, requests } = await exportWith({ KUBECONFIG: api.kubeconfigPath, NODE_NAME: NODE });
      assert.equal(res.code, 0, res.stderr);
      assert.equal(totalSampleValue(requests), inputTotal);
      const resource = containerResource(requests);
      assert.equal(resource['service.name'], 'recommender', "the rest of the chain: IG's pod label app");
      assert.equal(resource['k8s.pod.uid'], undefined);
      const warnings = res.stderr.split('\n').filter((l) => l.includes(' WARN ') && l.includes('pods'));
      assert.equal(warnings.length, 1, res.stderr);
      assert.match(warnings[0]!, /403.*verbs \[get, list, watch\]/);
    } finally {
      api.setPodsForbidden(false);
    }
  });

  it('not in a cluster: exports with IG fields and says why once', async () => {
    const { res, requests } = await exportWith({});
    assert.equal(res.code, 0, res.stderr);
    assert.equal(totalSampleValue(requests), inputTotal);
    assert.equal(containerResource(requests)['service.name'], 'recommender');
    assert.match(
      res.stderr,
      /WARN .*no Kubernetes API to read pod metadata from: no Kubernetes configuration found/,
    );
  });
});
