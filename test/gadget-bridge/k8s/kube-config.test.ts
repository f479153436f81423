import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  KubeConfigError,
  SERVICE_ACCOUNT_DIR,
  loadKubeConfig,
} from '../../../src/gadget-bridge/k8s/kube-config.js';
import { startK8sApiDouble } from '../../support/k8s-api-double.js';
import type { K8sApiDouble } from '../../support/k8s-api-double.js';

function kubeconfig(opts: {
  current?: string;
  contexts: { name: string; cluster: string; server: string }[];
}): string {
  const lines = ['apiVersion: v1', 'kind: Config'];
  if (opts.current) lines.push(`current-context: ${opts.current}`);
  lines.push('clusters:');
  for (const c of opts.contexts) {
    lines.push(
      `- name: ${c.cluster}`,
      '  cluster:',
      `    server: ${c.server}`,
      '    insecure-skip-tls-verify: true',
    );
  }
  lines.push('users:');
  for (const c of opts.contexts) lines.push(`- name: ${c.name}-user`, '  user:', '    token: t');
  lines.push('contexts:');
  for (const c of opts.contexts) {
    lines.push(`- name: ${c.name}`, '  context:', `    cluster: ${c.cluster}`, `    user: ${c.name}-user`);
  }
  return lines.join('\n') + '\n';
}

describe('loadKubeConfig', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'igop-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('merges a KUBECONFIG path list like kubectl: missing files skipped, first definition and current-context win', () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    writeFileSync(
      a,
      kubeconfig({
        current: 'ctx-a',
        contexts: [{ name: 'ctx-a', cluster: 'shared', server: 'https://a.example:6443' }],
      }),
    );
    writeFileSync(
      b,
      kubeconfig({
        current: 'ctx-b',
        contexts: [
          { name: 'ctx-b', cluster: 'shared', server: 'https://b.example:6443' },
          { name: 'ctx-only-b', cluster: 'b-cluster', server: 'https://only-b.example:6443' },
        ],
      }),
    );
    const env = { KUBECONFIG: [join(dir, 'missing.yaml'), a, b].join(delimiter), HOME: dir };
    const loaded = loadKubeConfig({ env });
    assert.equal(loaded.source.kind, 'env');
    assert.deepEqual(loaded.source.paths, [a, b]);
    assert.equal(loaded.contextName, 'ctx-a');
    assert.equal(loaded.server, 'https://a.example:6443');
    // ctx-b refers to cluster "shared", which file a defined first.
    assert.equal(loadKubeConfig({ env, context: 'ctx-b' }).server, 'https://a.example:6443');
    assert.equal(loadKubeConfig({ env, context: 'ctx-only-b' }).server, 'https://only-b.example:6443');
  });

  it('uses ~/.kube/config when KUBECONFIG is unset, and --kubeconfig over both', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(
      join(home, '.kube', 'config'),
      kubeconfig({
        current: 'home',
        contexts: [{ name: 'home', cluster: 'h', server: 'https://home.example' }],
      }),
    );
    const fromHome = loadKubeConfig({ env: { HOME: home } });
    assert.equal(fromHome.source.kind, 'home');
    assert.equal(fromHome.server, 'https://home.example');

    const flagFile = join(dir, 'flag.yaml');
    writeFileSync(
      flagFile,
      kubeconfig({ current: 'f', contexts: [{ name: 'f', cluster: 'f', server: 'https://flag.example' }] }),
    );
    const fromFlag = loadKubeConfig({
      kubeconfigPath: flagFile,
      env: { HOME: home, KUBECONFIG: join(home, '.kube', 'config') },
    });
    assert.equal(fromFlag.source.kind, 'flag');
    assert.equal(fromFlag.server, 'https://flag.example');
    assert.match(fromFlag.description, /context f \(server https:\/\/flag\.example\) from --kubeconfig/);
  });

  it('falls back to the in-cluster service account', () => {
    const root = join(dir, 'pod-root');
    mkdirSync(join(root, SERVICE_ACCOUNT_DIR), { recursive: true });
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'token'), 'sa-token');
    writeFileSync(join(root, SERVICE_ACCOUNT_DIR, 'namespace'), 'igop\n');
    const loaded = loadKubeConfig({
      env: {
        HOME: join(dir, 'empty-home'),
        KUBERNETES_SERVICE_HOST: 'fd00::1',
        KUBERNETES_SERVICE_PORT: '443',
      },
      serviceAccountRoot: root,
    });
    assert.equal(loaded.source.kind, 'in-cluster');
    assert.equal(loaded.server, 'https://[fd00::1]:443');
    assert.equal(loaded.kubeConfig.getContextObject(loaded.contextName)?.namespace, 'igop');
    assert.equal(loaded.kubeConfig.getCurrentCluster()?.caFile, join(root, SERVICE_ACCOUNT_DIR, 'ca.crt'));
  });

  it('fails with an actionable error when nothing is found', () => {
    assert.throws(
      () => loadKubeConfig({ env: { HOME: join(dir, 'nowhere') }, serviceAccountRoot: join(dir, 'nowhere') }),
      (err: unknown) =>
        err instanceof KubeConfigError &&
        err.message.includes(join(dir, 'nowhere', '.kube', 'config')) &&
        err.message.includes('pass --kubeconfig FILE, set KUBECONFIG'),
    );
    assert.throws(
      () => loadKubeConfig({ kubeconfigPath: join(dir, 'nope.yaml') }),
      /--kubeconfig .*nope\.yaml: file not found/,
    );
  });

  it('rejects an unknown --context and lists the available ones', () => {
    const f = join(dir, 'ctx.yaml');
    writeFileSync(
      f,
      kubeconfig({
        current: 'one',
        contexts: [
          { name: 'one', cluster: 'c1', server: 'https://one' },
          { name: 'two', cluster: 'c2', server: 'https://two' },
        ],
      }),
    );
    assert.throws(
      () => loadKubeConfig({ kubeconfigPath: f, context: 'three' }),
      /context "three" not found .*available: one, two/,
    );
  });

  it('explains that client-node needs insecure-skip-tls-verify for an http:// server', () => {
    const f = join(dir, 'http.yaml');
    writeFileSync(
      f,
      'apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n' +
        'users:\n- name: u\n  user: {}\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n',
    );
    assert.throws(() => loadKubeConfig({ kubeconfigPath: f }), /plain HTTP .*insecure-skip-tls-verify: true/);
  });

  describe('against the API-server double', () => {
    let api: K8sApiDouble;
    before(async () => {
      api = await startK8sApiDouble();
    });
    after(() => api.close());

    it('yields a KubeConfig whose client lists pods with the bearer token', async () => {
      api.addPod({ name: 'gadget-x', nodeName: 'n1' });
      const { kubeConfig } = loadKubeConfig({ kubeconfigPath: api.kubeconfigPath });
      const list = await kubeConfig.makeApiClient(CoreV1Api).listNamespacedPod({ namespace: 'gadget' });
      assert.deepEqual(
        list.items.map((p) => p.metadata?.name),
        ['gadget-x'],
      );
    });
  });
});
