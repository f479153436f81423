// End to end: API-server double → port-forward WebSockets → two IG daemon doubles (one per
// "node") speaking IG's gRPC API → the real gRPC row source per pod → the merged fan-out.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import { createGrpcRowSource } from '../../../src/gadget-bridge/grpc/grpc-row-source.js';
import { createKubernetesGadgetFanout } from '../../../src/gadget-bridge/k8s/gadget-pod-fanout.js';
import { loadKubeConfig } from '../../../src/gadget-bridge/k8s/kube-config.js';
import type { RowBatch } from '../../../src/rows/row-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { startIgDaemonDouble } from '../../support/ig-daemon-double.js';
import type { IgDaemonDouble } from '../../support/ig-daemon-double.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';
import { waitFor } from '../../support/k8s-tcp-fixtures.js';
import { getField } from '../../../src/rows/gadget-row.js';

const example = readIgExampleEmissions()[0]!;
/** Rows whose `samples` encode a tag, so each node's and each emission's batches are recognisable. */
const tagged = (tag: number): GadgetRow[] => example.map((r, i) => ({ ...r, samples: tag * 100 + i }));
const tagOf = (b: RowBatch): number =>
  Math.floor(Number((b.rows[0] && getField(b.rows[0], 'samples')) ?? -100) / 100);

describe('gadget pod fan-out over IG gRPC through port-forwards', () => {
  let api: K8sApiDouble;
  let igA: IgDaemonDouble;
  let igB: IgDaemonDouble;
  before(async () => {
    // node-a emits tags 1, 2 and flushes 9; node-b emits 3, 4 and flushes 8.
    igA = await startIgDaemonDouble({
      tcp: true,
      script: () => [{ rows: tagged(1) }, { rows: tagged(2) }],
      finalFlush: () => tagged(9),
    });
    igB = await startIgDaemonDouble({
      tcp: true,
      script: () => [{ rows: tagged(3) }, { rows: tagged(4) }],
      finalFlush: () => tagged(8),
    });
    api = await startK8sApiDouble();
    const port = (address: string | undefined): number => Number(/:(\d+)$/.exec(address ?? '')?.[1]);
    api.addPod({ name: 'gadget-a', nodeName: 'node-a', target: { port: port(igA.tcpAddress) } });
    api.addPod({ name: 'gadget-b', nodeName: 'node-b', target: { port: port(igB.tcpAddress) } });
  });
  after(async () => {
    await api.close();
    await igA.close();
    await igB.close();
  });

  it('runs profile_cpu on every node and delivers each node’s batches and final flush', async () => {
    const counters = new Counters();
    const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
    const fanout = createKubernetesGadgetFanout({
      kubeConfig,
      counters,
      createSource: (t) =>
        createGrpcRowSource({
          address: t.address,
          run: { imageName: 'profile_cpu' },
          logger: silentLogger,
          counters,
          reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
        }),
    });
    const tags: number[] = [];
    const consumed = (async () => {
      for await (const b of fanout.batches()) {
        assert.equal(b.spec.profileName, 'process_cpu');
        tags.push(tagOf(b));
      }
    })();
    await waitFor('both nodes’ emissions', () => [1, 2, 3, 4].every((t) => tags.includes(t)), 10_000);
    await fanout.stop();
    await consumed;
    assert.deepEqual(
      tags.filter((t) => t === 1 || t === 2 || t === 9),
      [1, 2, 9],
    );
    assert.deepEqual(
      tags.filter((t) => t === 3 || t === 4 || t === 8),
      [3, 4, 8],
    );
    assert.equal(igA.runs.length, 1);
    assert.equal(igB.runs.length, 1);
    assert.equal(igA.runs[0]!.stopRequested, true);
    assert.equal(igB.runs[0]!.stopRequested, true);
    assert.ok(api.portForwardsTotal >= 2);
    assert.equal(counters.get('k8s_pods_seen'), 2);
    assert.equal(counters.total('k8s_pod_sources_failed'), 0);
  });
});
