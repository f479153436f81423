// Shows the API-server double speaks the real API: kubectl itself lists pods from it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';

const execFileAsync = promisify(execFile);

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

const kubectl = findOnPath('kubectl');
const skip = kubectl ? false : 'kubectl is not on PATH, so it cannot be pointed at the double';
if (skip) console.log(`# skipping kubectl test: ${skip}`);

describe('kubectl against the API-server double', { skip }, () => {
  let api: K8sApiDouble;
  before(async () => {
    // kubectl does not send the kubeconfig's bearer token to a plain-HTTP server.
    api = await startK8sApiDouble({ allowAnonymous: true });
    api.addPod({ name: 'gadget-a1', nodeName: 'node-a' });
    api.addPod({ name: 'gadget-b1', nodeName: 'node-b' });
    api.addPod({ name: 'other-pod', nodeName: 'node-a', labels: { app: 'other' } });
    api.addPod({ name: 'gadget-x', nodeName: 'node-x', namespace: 'default' });
  });
  after(() => api.close());

  // execFile, not spawnSync: the double runs in this process and must keep answering.
  const run = async (...args: string[]): Promise<string> => {
    const { stdout } = await execFileAsync(
      kubectl!,
      ['--kubeconfig', api.kubeconfigPath, '--cache-dir', join(api.dir, 'cache'), ...args],
      {
        timeout: 20_000,
      },
    );
    return stdout;
  };

  it('lists gadget pods by namespace and label, like `kubectl gadget`', async () => {
    const out = await run('get', 'pods', '-n', 'gadget', '-l', 'k8s-app=gadget', '-o', 'name');
    assert.deepEqual(out.trim().split('\n').sort(), ['pod/gadget-a1', 'pod/gadget-b1']);
  });

  it('applies the node field selector', async () => {
    const out = await run(
      'get',
      'pods',
      '-n',
      'gadget',
      '--field-selector',
      'spec.nodeName=node-b',
      '-o',
      'name',
    );
    assert.equal(out.trim(), 'pod/gadget-b1');
  });

  it('reads one pod as JSON', async () => {
    const pod = JSON.parse(await run('get', 'pod', 'gadget-a1', '-n', 'gadget', '-o', 'json')) as {
      spec: { nodeName: string };
      status: { phase: string };
    };
    assert.equal(pod.spec.nodeName, 'node-a');
    assert.equal(pod.status.phase, 'Running');
  });
});
