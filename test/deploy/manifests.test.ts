import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { imageNodeOptions } from '../../bench/shipped-cli.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { EXPORTER_NAME, EXPORTER_VERSION } from '../../src/util/version.js';
import { runCli, tempDir } from '../support/cli-harness.js';

/**
 * Renders each deploy/k8s variant offline with `kubectl kustomize` (what `kubectl apply -k` sends)
 * and checks the objects: config, flags, security context, RBAC, secrets, queue volume, the
 * telemetry port and the probes on it.
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

interface HttpProbe {
  httpGet: { path: string; port: string | number };
  timeoutSeconds?: number;
}

interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name?: string; containerPort: number; protocol?: string }[];
  livenessProbe?: HttpProbe;
  readinessProbe?: HttpProbe;
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

/** The exporter container: the one running a command of ours (`run`, or `relay`). */
function exporterOf(spec: PodSpec): Container {
  const found = spec.containers.filter((c) => c.args?.[0] === 'run' || c.args?.[0] === 'relay');
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

/** Components rendered on a stand-in of IG's own manifests (what a user's kustomization does). */
function kustomizeOnIg(root: string, name: string, components: readonly string[]): Obj[] {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'gadget.yaml'), IG_DAEMONSET);
  const paths = components.map((c) => relative(dir, join(DEPLOY, c)));
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    `resources: [gadget.yaml]\ncomponents: [${paths.join(', ')}]\n`,
  );
  return kustomize(dir);
}

describe('deploy/k8s manifests, rendered with kubectl kustomize', () => {
  const dir = tempDir();
  let sidecar: Obj[];
  let relay: Obj[];
  let cluster: Obj[];
  before(() => {
    sidecar = kustomizeOnIg(dir.path, 'sidecar', ['sidecar']);
    relay = kustomizeOnIg(dir.path, 'relay', ['relay']);
    cluster = kustomize(join(DEPLOY, 'cluster'));
  });
  after(() => dir.cleanup());

  const variants = (): { name: string; objects: Obj[]; spec: PodSpec }[] => [
    { name: 'sidecar', objects: sidecar, spec: podSpecOf(sidecar, 'DaemonSet', 'gadget') },
    { name: 'relay', objects: relay, spec: podSpecOf(relay, 'DaemonSet', 'gadget') },
    { name: 'cluster', objects: cluster, spec: podSpecOf(cluster, 'Deployment', 'ig-otel-profiles') },
  ];

  it("the sidecar and relay join IG's gadget pod and leave IG's container as it was", () => {
    for (const [objects, ourName] of [
      [sidecar, 'otel-profiles'],
      [relay, 'otel-profiles-relay'],
    ] as const) {
      const spec = podSpecOf(objects, 'DaemonSet', 'gadget');
      assert.deepEqual(
        spec.containers.map((c) => c.name),
        [ourName, 'gadget'],
      );
      assert.deepEqual(
        spec.containers.find((c) => c.name === 'gadget'),
        {
          name: 'gadget',
          image: 'ghcr.io/inspektor-gadget/inspektor-gadget:v0.47.0',
        },
      );
    }
  });

  it("relay listens where IG's own otel-profiles exporter config sends (ig-daemon-config.yaml)", () => {
    const container = exporterOf(podSpecOf(relay, 'DaemonSet', 'gadget'));
    const grpc = container.args?.find((a) => a.startsWith('--grpc='))?.split('=')[1];
    const ig = parse(readFileSync(join(DEPLOY, 'relay', 'ig-daemon-config.yaml'), 'utf8')) as {
      operator: { 'otel-profiles': { exporters: Record<string, Record<string, unknown>> } };
    };
    assert.deepEqual(ig.operator['otel-profiles'].exporters.relay, {
      exporter: 'otlp-grpc',
      endpoint: grpc,
      insecure: true,
    });
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

  it('every flag the containers pass is one its command --help lists, with the image of this version', async () => {
    for (const { name, spec } of variants()) {
      const exporter = exporterOf(spec);
      const command = exporter.args?.[0] ?? '';
      const help = (await runCli([command, '--help'])).stdout;
      const known = new Set(help.match(/--[a-z][a-z0-9.-]*/g));
      assert.ok(known.has('--k8s-pod-metadata') && known.has('--telemetry-address'), name);
      if (command === 'run') assert.equal(exporter.args?.[1], 'profile_cpu', name);
      const flags = (exporter.args ?? []).filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
      assert.ok(flags.includes('--k8s-pod-metadata'), `${name} enables pod metadata`);
      for (const flag of flags) assert.ok(known.has(flag), `${name}: ${flag} is in ${command} --help`);
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
        if (c.command?.[0] !== 'install') {
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
    assert.deepEqual(rulesOf(relay, 'gadget', 'gadget'), ['cluster: /pods get,list,watch']);
    assert.equal(podSpecOf(cluster, 'Deployment', 'ig-otel-profiles').serviceAccountName, 'ig-otel-profiles');
    assert.ok(cluster.some((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'ig-otel-profiles'));
    assert.deepEqual(rulesOf(cluster, 'gadget', 'ig-otel-profiles'), [
      'cluster: /pods get,list,watch',
      'namespace gadget: /pods/portforward get,create',
    ]);
    // Nothing else is granted to anyone by these manifests.
    const roles = [...sidecar, ...relay, ...cluster].filter(
      (o) => o.kind === 'Role' || o.kind === 'ClusterRole',
    );
    assert.equal(roles.length, 4);
  });

  it('pod metadata knows its node: NODE_NAME from the downward API in the per-node sidecar and relay', () => {
    for (const objects of [sidecar, relay]) {
      const exporter = exporterOf(podSpecOf(objects, 'DaemonSet', 'gadget'));
      assert.deepEqual(exporter.env?.find((e) => e.name === 'NODE_NAME')?.valueFrom, {
        fieldRef: { fieldPath: 'spec.nodeName' },
      });
    }
    // The cluster Deployment profiles every node, so it watches every node's pods.
    const clusterExporter = exporterOf(podSpecOf(cluster, 'Deployment', 'ig-otel-profiles'));
    assert.equal(
      clusterExporter.env?.find((e) => e.name === 'NODE_NAME'),
      undefined,
    );
  });

  it("the sidecar's and relay's persistent queue is on a hostPath their user owns; the cluster variant queues in memory", () => {
    for (const [name, objects] of [
      ['sidecar', sidecar],
      ['relay', relay],
    ] as const) {
      const spec = podSpecOf(objects, 'DaemonSet', 'gadget');
      const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
      const queueDir = /directory: (\S+)/.exec(
        (configMap.data as Record<string, string>)['config.yaml'] ?? '',
      )?.[1];
      assert.ok(queueDir, `the ${name} config has a queue directory`);
      const exporter = exporterOf(spec);
      const mount = exporter.volumeMounts?.find((m) => queueDir.startsWith(`${m.mountPath}/`));
      assert.ok(mount, `${name}: ${queueDir} is on a mounted volume`);
      const volume = spec.volumes?.find((v) => v.name === mount.name);
      assert.deepEqual(volume?.hostPath, { path: '/var/lib/ig-otel-profiles', type: 'DirectoryOrCreate' });
      const init = spec.initContainers?.find((c) => c.volumeMounts?.some((m) => m.name === mount.name));
      assert.ok(init?.command?.includes(queueDir), `${name}: the init container prepares that directory`);
      assert.ok(init?.command?.includes('65532'), `${name}: for the exporter user`);
      assert.equal(exporter.securityContext?.runAsUser, 65532, name);
    }

    const clusterConfig = cluster.find((o) => o.kind === 'ConfigMap')!;
    assert.doesNotMatch((clusterConfig.data as Record<string, string>)['config.yaml'] ?? '', /directory:/);
  });

  it('self-telemetry: the --telemetry-address port is declared, liveness on /healthz, readiness on /readyz', () => {
    for (const { name, spec } of variants()) {
      const exporter = exporterOf(spec);
      const address = exporter.args?.find((a) => a.startsWith('--telemetry-address='))?.split('=')[1];
      assert.ok(address, `${name} serves its telemetry`);
      // The kubelet probes the pod IP: every interface, not loopback.
      assert.match(address, /^(0\.0\.0\.0)?:\d+$/, name);
      const port = exporter.ports?.find((p) => p.name === 'telemetry');
      assert.equal(port?.containerPort, Number(address.split(':').pop()), name);
      assert.deepEqual(exporter.livenessProbe?.httpGet, { path: '/healthz', port: 'telemetry' }, name);
      assert.deepEqual(exporter.readinessProbe?.httpGet, { path: '/readyz', port: 'telemetry' }, name);
      // A wedged event loop cannot answer: the probe's timeout is what fails it.
      assert.ok((exporter.livenessProbe?.timeoutSeconds ?? 1) >= 2, name);
    }
    const template = (
      cluster.find((o) => o.kind === 'Deployment')!.spec as {
        template: { metadata: { annotations?: Record<string, string> } };
      }
    ).template;
    assert.deepEqual(template.metadata.annotations, {
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': '9464',
      'prometheus.io/path': '/metrics',
    });
  });

  it('the optional PodMonitor component scrapes the telemetry port of the pods the variants run', () => {
    const objects = kustomizeOnIg(dir.path, 'podmonitor', ['sidecar', 'podmonitor']);
    const monitors = objects.filter((o) => o.kind === 'PodMonitor');
    assert.equal(monitors.length, 2);
    for (const { name, spec, objects: rendered } of variants()) {
      const workload = rendered.find((o) => o.kind === 'DaemonSet' || o.kind === 'Deployment')!;
      const labels = (workload.spec as { template: { metadata: { labels: Record<string, string> } } })
        .template.metadata.labels;
      const matching = monitors.filter((m) => {
        const selector = (
          m.spec as {
            selector: {
              matchLabels?: Record<string, string>;
              matchExpressions?: { key: string; values: string[] }[];
            };
          }
        ).selector;
        const byLabels = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
        const byExpressions = (selector.matchExpressions ?? []).every((e) =>
          e.values.includes(labels[e.key] ?? ''),
        );
        return byLabels && byExpressions;
      });
      assert.equal(matching.length, 1, `${name}: one PodMonitor selects its pods`);
      const endpoints = (matching[0]!.spec as { podMetricsEndpoints: { port: string; path: string }[] })
        .podMetricsEndpoints;
      assert.deepEqual(
        endpoints.map((e) => [e.port, e.path]),
        [['telemetry', '/metrics']],
      );
      assert.ok(
        exporterOf(spec).ports?.some((p) => p.name === 'telemetry'),
        name,
      );
    }
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
