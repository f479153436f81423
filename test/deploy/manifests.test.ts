import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { imageNodeOptions } from '../../bench/shipped-cli.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { EXPORTER_NAME, EXPORTER_VERSION } from '../../src/version.js';
import { runCli, tempDir } from '../support/cli-harness.js';

/**
 * Renders each deploy/k8s variant offline with `kubectl kustomize` (what `kubectl apply -k` sends)
 * and checks the objects: config, flags, security context, RBAC, secrets, queue volume.
 */

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string } };

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: EnvVar[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string }[];
}

interface PodSpec {
  serviceAccountName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: ({ name: string } & Record<string, unknown>)[];
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const DEPLOY = new URL('../../deploy/k8s/', import.meta.url).pathname;
const IMAGE = `ghcr.io/${EXPORTER_NAME}/${EXPORTER_NAME}:${EXPORTER_VERSION}`;

/** What IG deploys, reduced to what the sidecar component patches (DaemonSet `gadget`, SA `gadget`). */
const IG_DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: gadget, namespace: gadget }
spec:
  selector: { matchLabels: { k8s-app: gadget } }
  template:
    metadata: { labels: { k8s-app: gadget } }
    spec:
      serviceAccountName: gadget
      containers:
        - name: gadget
          image: ghcr.io/inspektor-gadget/inspektor-gadget:v0.47.0
`;

function kustomize(dir: string): Obj[] {
  const text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8' });
  return parseAllDocuments(text).map((d) => d.toJS() as Obj);
}

function podSpecOf(objects: readonly Obj[], kind: string, name: string): PodSpec {
  const workload = objects.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(workload, `${kind} ${name} rendered`);
  return (workload.spec as { template: { spec: PodSpec } }).template.spec;
}

/** Our containers in a pod spec (init included): those running our image. */
function ours(spec: PodSpec): Container[] {
  return [...(spec.initContainers ?? []), ...spec.containers].filter((c) =>
    c.image.startsWith(`ghcr.io/${EXPORTER_NAME}/`),
  );
}

/** The exporter container: the one running a command of ours. */
function exporterOf(spec: PodSpec): Container {
  const found = spec.containers.filter((c) => c.args?.[0] === 'run');
  assert.equal(found.length, 1);
  return found[0]!;
}

/** Every rule granted to a service account through the rendered bindings, with its scope. */
function rulesOf(objects: readonly Obj[], namespace: string, serviceAccount: string): string[] {
  const out: string[] = [];
  for (const binding of objects.filter((o) => o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding')) {
    const subjects = binding.subjects as { kind: string; name: string; namespace?: string }[];
    if (
      !subjects.some(
        (s) => s.kind === 'ServiceAccount' && s.name === serviceAccount && s.namespace === namespace,
      )
    )
      continue;
    const ref = binding.roleRef as { kind: string; name: string };
    const role = objects.find(
      (o) =>
        o.kind === ref.kind &&
        o.metadata.name === ref.name &&
        (ref.kind === 'ClusterRole' || o.metadata.namespace === binding.metadata.namespace),
    );
    assert.ok(
      role,
      `${binding.kind} ${binding.metadata.name} refers to ${ref.kind} ${ref.name}, which is rendered`,
    );
    const scope =
      binding.kind === 'ClusterRoleBinding' ? 'cluster' : `namespace ${binding.metadata.namespace ?? ''}`;
    for (const rule of role.rules as Rule[])
      out.push(`${scope}: ${rule.apiGroups.join('|')}/${rule.resources.join('|')} ${rule.verbs.join(',')}`);
  }
  return out.sort();
}

describe('deploy/k8s manifests, rendered with kubectl kustomize', () => {
  const dir = tempDir();
  let sidecar: Obj[];
  let cluster: Obj[];
  before(() => {
    // The sidecar is a Component on IG's own manifests: render it on a stand-in of them.
    writeFileSync(join(dir.path, 'gadget.yaml'), IG_DAEMONSET);
    writeFileSync(
      join(dir.path, 'kustomization.yaml'),
      `resources: [gadget.yaml]\ncomponents: [${relative(dir.path, join(DEPLOY, 'sidecar'))}]\n`,
    );
    sidecar = kustomize(dir.path);
    cluster = kustomize(join(DEPLOY, 'cluster'));
  });
  after(() => dir.cleanup());

  const variants = (): { name: string; objects: Obj[]; spec: PodSpec }[] => [
    { name: 'sidecar', objects: sidecar, spec: podSpecOf(sidecar, 'DaemonSet', 'gadget') },
    { name: 'cluster', objects: cluster, spec: podSpecOf(cluster, 'Deployment', 'ig-otel-profiles') },
  ];

  it("the sidecar joins IG's gadget pod and leaves IG's container as it was", () => {
    const spec = podSpecOf(sidecar, 'DaemonSet', 'gadget');
    assert.deepEqual(
      spec.containers.map((c) => c.name),
      ['otel-profiles', 'gadget'],
    );
    assert.deepEqual(
      spec.containers.find((c) => c.name === 'gadget'),
      {
        name: 'gadget',
        image: 'ghcr.io/inspektor-gadget/inspektor-gadget:v0.47.0',
      },
    );
  });

  it('config.yaml loads with the real config loader, defines the selected exporter, and headers come from a Secret', () => {
    for (const { name, objects, spec } of variants()) {
      const exporter = exporterOf(spec);
      const configMaps = objects.filter((o) => o.kind === 'ConfigMap');
      assert.equal(configMaps.length, 1, name);
      const text = (configMaps[0]!.data as Record<string, string>)['config.yaml'] ?? '';
      assert.doesNotMatch(text, /headers|authorization/i, `${name}: no credentials in the ConfigMap`);
      const selected = exporter.args?.find((a) => a.startsWith('--otel-profiles-exporter='))?.split('=')[1];
      assert.ok(selected, name);
      const headers = exporter.env?.find((e) => e.name === 'OTEL_EXPORTER_OTLP_HEADERS');
      assert.deepEqual(headers?.valueFrom, {
        secretKeyRef: { name: 'ig-otel-profiles-headers', key: 'headers', optional: true },
      });
      assert.equal(headers?.value, undefined, name);
      const path = join(dir.path, `${name}.yaml`);
      writeFileSync(path, text);
      // What the Secret's value becomes: headers of the exporter the container selects.
      const config = loadConfig({
        configFile: path,
        env: { OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20s3cret' },
        flags: { exporterSelection: selected },
        logger: silentLogger,
      });
      assert.equal(config.exporters.get(selected)?.headers.authorization, 'Bearer s3cret', name);
    }
  });

  it('every flag the containers pass is one `run --help` lists, with the image of this version', async () => {
    const help = (await runCli(['run', '--help'])).stdout;
    const known = new Set(help.match(/--[a-z][a-z0-9.-]*/g));
    assert.ok(known.has('--k8s-pod-metadata'));
    for (const { name, spec } of variants()) {
      const exporter = exporterOf(spec);
      assert.equal(exporter.args?.[1], 'profile_cpu', name);
      const flags = (exporter.args ?? []).filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
      assert.ok(flags.includes('--k8s-pod-metadata'), `${name} enables pod metadata`);
      for (const flag of flags) assert.ok(known.has(flag), `${name}: ${flag} is in run --help`);
      for (const c of ours(spec)) assert.equal(c.image, IMAGE, `${name}/${c.name}`);
    }
  });

  it('security context: seccomp RuntimeDefault, no privilege escalation, read-only root, no capabilities', () => {
    for (const { name, spec } of variants()) {
      const containers = ours(spec);
      assert.ok(containers.length >= 1);
      for (const c of containers) {
        const sc = c.securityContext ?? {};
        const where = `${name}/${c.name}`;
        assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' }, where);
        assert.equal(sc.allowPrivilegeEscalation, false, where);
        assert.equal(sc.readOnlyRootFilesystem, true, where);
        const caps = sc.capabilities as { drop?: string[]; add?: string[] };
        assert.deepEqual(caps.drop, ['ALL'], where);
        if (c.args?.[0] === 'run') {
          assert.equal(sc.runAsNonRoot, true, where);
          assert.equal(caps.add, undefined, where);
        } else {
          // The queue-directory init container: root for one chown, nothing else.
          assert.deepEqual(caps.add, ['CHOWN'], where);
          assert.equal(c.command?.[0], 'install', where);
        }
      }
    }
  });

  it('RBAC is minimal: get/list/watch on pods (plus port-forward to gadget pods for the cluster variant)', () => {
    assert.deepEqual(rulesOf(sidecar, 'gadget', 'gadget'), ['cluster: /pods get,list,watch']);
    assert.equal(podSpecOf(cluster, 'Deployment', 'ig-otel-profiles').serviceAccountName, 'ig-otel-profiles');
    assert.ok(cluster.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'ig-otel-profiles'));
    assert.deepEqual(rulesOf(cluster, 'gadget', 'ig-otel-profiles'), [
      'cluster: /pods get,list,watch',
      'namespace gadget: /pods/portforward get,create',
    ]);
    // Nothing else is granted to anyone by these manifests.
    const roles = [...sidecar, ...cluster].filter((o) => o.kind === 'Role' || o.kind === 'ClusterRole');
    assert.equal(roles.length, 3);
  });

  it('pod metadata knows its node: NODE_NAME from the downward API in the per-node sidecar', () => {
    const exporter = exporterOf(podSpecOf(sidecar, 'DaemonSet', 'gadget'));
    assert.deepEqual(exporter.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom, {
      fieldRef: { fieldPath: 'spec.nodeName' },
    });
    // The cluster Deployment profiles every node, so it watches every node's pods.
    const clusterExporter = exporterOf(podSpecOf(cluster, 'Deployment', 'ig-otel-profiles'));
    assert.equal(
      clusterExporter.env?.find((e) => e.name === 'NODE_NAME'),
      undefined,
    );
  });

  it("the sidecar's persistent queue is on a hostPath its user owns; the cluster variant queues in memory", () => {
    const spec = podSpecOf(sidecar, 'DaemonSet', 'gadget');
    const configMap = sidecar.find((o) => o.kind === 'ConfigMap')!;
    const queueDir = /directory: (\S+)/.exec(
      (configMap.data as Record<string, string>)['config.yaml'] ?? '',
    )?.[1];
    assert.ok(queueDir, 'the sidecar config has a queue directory');
    const exporter = exporterOf(spec);
    const mount = exporter.volumeMounts?.find((m) => queueDir.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${queueDir} is on a mounted volume`);
    const volume = spec.volumes?.find((v) => v.name === mount.name);
    assert.deepEqual(volume?.hostPath, { path: '/var/lib/ig-otel-profiles', type: 'DirectoryOrCreate' });
    const init = spec.initContainers?.find((c) => c.volumeMounts?.some((m) => m.name === mount.name));
    assert.ok(init?.command?.includes(queueDir), 'the init container prepares that directory');
    assert.ok(init?.command?.includes('65532'), 'for the exporter user');
    assert.equal(exporter.securityContext?.runAsUser, 65532);

    const clusterConfig = cluster.find((o) => o.kind === 'ConfigMap')!;
    assert.doesNotMatch((clusterConfig.data as Record<string, string>)['config.yaml'] ?? '', /directory:/);
  });

  it("the exporter containers run with the Dockerfile's NODE_OPTIONS, and node accepts them", () => {
    const image = imageNodeOptions(); // throws when the Dockerfile sets none
    for (const { name, spec } of variants()) {
      // The benchmarks measure the image's flags: a manifest that differs runs unmeasured.
      assert.equal(exporterOf(spec).env?.find((e) => e.name === 'NODE_OPTIONS')?.value, image, name);
    }
    // node exits with "bad option" on a flag it does not know, also in NODE_OPTIONS.
    const out = execFileSync(process.execPath, ['-p', "require('v8').getHeapStatistics().heap_size_limit"], {
      env: { ...process.env, NODE_OPTIONS: image },
      encoding: 'utf8',
    });
    const limitMiB = Number(out) / (1024 * 1024);
    const capMiB = Number(/--max-old-space-size=(\d+)/.exec(image)?.[1]);
    assert.ok(
      limitMiB >= capMiB && limitMiB < capMiB + 64,
      `heap limit ${limitMiB} MiB follows the cap ${capMiB} MiB`,
    );
  });
});
