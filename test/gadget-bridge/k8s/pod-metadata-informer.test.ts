import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '../../support/k8s-tcp-fixtures.js';
import {
  captureLogger,
  containerRow,
  podMetadataResolver,
  informerTestbed,
  stringAttributes,
} from '../../support/pod-metadata-fixtures.js';

const NODE = 'node-a';
const ID = 'ab'.repeat(32);

describe('pod metadata informer (list + watch against the API double)', () => {
  const bed = informerTestbed();

  const lists = (): number =>
    bed.api.requests.filter((r) => r.path === '/api/v1/pods' && r.query.watch === undefined).length;
  const find = (name: string, namespace = 'shop') => bed.informer?.find('', namespace, name, 'app');

  it("lists and watches only this node's pods, from the list's resourceVersion, and drops deleted pods", async () => {
    bed.api.addPod({ name: 'here', namespace: 'shop', nodeName: NODE });
    bed.api.addPod({ name: 'elsewhere', namespace: 'shop', nodeName: 'node-b' });
    const informer = bed.informerOn(NODE);
    assert.equal(await informer.waitForSync(5_000), true);
    assert.equal(informer.status().state, 'synced');
    assert.equal(informer.status().pods, 1);
    assert.ok(find('here'));
    assert.equal(find('elsewhere'), undefined);
    const list = bed.api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch === undefined);
    assert.equal(list?.query.fieldSelector, `spec.nodeName=${NODE}`);
    await waitFor('the watch', () => bed.api.watchesOpen === 1);
    const watch = bed.api.requests.find((r) => r.path === '/api/v1/pods' && r.query.watch !== undefined);
    assert.equal(watch?.query.fieldSelector, `spec.nodeName=${NODE}`);
    assert.ok(Number(watch?.query.resourceVersion) > 0, 'the watch resumes from the list');

    bed.api.addPod({ name: 'later', namespace: 'shop', nodeName: NODE });
    await waitFor('the added pod', () => find('later') !== undefined);
    bed.api.deletePod('here', { namespace: 'shop', graceful: true });
    await waitFor('the deleted pod gone', () => find('here') === undefined);
    assert.equal(informer.status().pods, 1);
    assert.equal(lists(), 1, 'no request per event: one list, then the watch');
  });

  it('403 Forbidden: exports with IG fields, logs once naming the RBAC rule, and picks the pods up once allowed', async () => {
    bed.api.addPod({
      name: 'api-0',
      namespace: 'shop',
      nodeName: NODE,
      ownerReferences: [{ kind: 'StatefulSet', name: 'api' }],
      containers: [{ name: 'app', containerID: `containerd://${ID}` }],
    });
    bed.api.setPodsForbidden(true);
    const log = captureLogger();
    const informer = bed.informerOn(NODE, log.logger);
    assert.equal(
      await informer.waitForSync(5_000),
      false,
      'the wait ends at the refusal, not at the timeout',
    );
    const status = informer.status();
    assert.equal(status.state, 'unavailable');
    assert.match(status.reason ?? '', /HTTP 403/);
    assert.match(status.reason ?? '', /ClusterRole.*resources \[pods\], verbs \[get, list, watch\]/);

    const resolver = podMetadataResolver(informer);
    const row = containerRow({
      node: NODE,
      namespace: 'shop',
      podName: 'api-0',
      containerName: 'app',
      containerId: ID,
    });
    const attributes = (): Record<string, string> =>
      stringAttributes(resolver.attributesOf(resolver.newObservation(row)));
    // Without pod metadata the rest of the chain decides: the container name (IG's field).
    assert.deepEqual(attributes(), {
      'k8s.node.name': NODE,
      'k8s.namespace.name': 'shop',
      'k8s.pod.name': 'api-0',
      'k8s.container.name': 'app',
      'container.id': ID,
      'service.name': 'app',
    });
    await waitFor(
      'a few retries',
      () => bed.api.requests.filter((r) => r.path === '/api/v1/pods').length >= 3,
    );
    const warnings = log.lines.filter((l) => l.includes(' WARN '));
    assert.equal(warnings.length, 1, `logged once: ${log.lines.join('\n')}`);
    assert.match(warnings[0] ?? '', /verbs \[get, list, watch\]/);

    bed.api.setPodsForbidden(false);
    await waitFor('the pods once RBAC allows them', () => bed.informer?.status().state === 'synced');
    assert.equal(attributes()['service.name'], 'api');
    assert.equal(attributes()['k8s.statefulset.name'], 'api');
  });

  it('a dropped watch connection: re-watches or re-lists, and misses nothing that happened meanwhile', async () => {
    bed.api.addPod({ name: 'a', namespace: 'shop', nodeName: NODE });
    bed.api.addPod({ name: 'b', namespace: 'shop', nodeName: NODE });
    const informer = bed.informerOn(NODE);
    await informer.waitForSync(5_000);
    await waitFor('the watch', () => bed.api.watchesOpen === 1);
    bed.api.dropWatches();
    // While nobody watches: changes, and the history compacted (a resume gets 410 Gone).
    bed.api.deletePod('a', { namespace: 'shop' });
    bed.api.addPod({ name: 'c', namespace: 'shop', nodeName: NODE });
    bed.api.expireHistory();
    await waitFor('resynced', () => find('c') !== undefined && find('a') === undefined, 10_000);
    assert.ok(find('b'));
    assert.ok(lists() >= 2, 'a fresh list after the disconnect');
    await waitFor('watching again', () => bed.api.watchesOpen === 1);
    bed.api.addPod({ name: 'd', namespace: 'shop', nodeName: NODE });
    await waitFor('events flow again', () => find('d') !== undefined);
  });

  it('410 Gone on an open watch: re-lists and diffs', async () => {
    bed.api.addPod({ name: 'a', namespace: 'shop', nodeName: NODE });
    const informer = bed.informerOn(NODE);
    await informer.waitForSync(5_000);
    await waitFor('the watch', () => bed.api.watchesOpen === 1);
    bed.api.expireHistory({ notifyOpenWatches: true });
    await waitFor('a second list', () => lists() === 2);
    await waitFor('watching again', () => bed.api.watchesOpen === 1);
    assert.ok(find('a'));
    assert.equal(informer.status().state, 'synced');
  });

  it('stop() ends the watch and leaves nothing running', async () => {
    const informer = bed.informerOn(NODE);
    await informer.waitForSync(5_000);
    await waitFor('the watch', () => bed.api.watchesOpen === 1);
    await informer.stop();
    assert.equal(informer.status().state, 'stopped');
    await waitFor('the watch closed', () => bed.api.watchesOpen === 0);
  });
});
