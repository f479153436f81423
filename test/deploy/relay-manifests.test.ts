import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { tempDir } from '../support/cli-harness.js';

/**
 * deploy/k8s/relay rendered by `kubectl kustomize` over a stand-in of IG's `gadget` DaemonSet: the relay
 * container joins the gadget pod, its config loads with the real loader and defines the exporter it
 * selects, and IG's daemon config points the `relay` exporter at the address relay listens on.
 */

const DIR = new URL('../../deploy/k8s/relay/', import.meta.url).pathname;

interface Container {
  name: string;
  args?: string[];
}

const GADGET_DAEMONSET = `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: gadget, namespace: gadget }
spec:
  selector: { matchLabels: { k8s-app: gadget } }
  template:
    metadata: { labels: { k8s-app: gadget } }
    spec:
      containers:
        - name: gadget
          image: ghcr.io/inspektor-gadget/inspektor-gadget:latest
`;

describe('deploy/k8s/relay', () => {
  it('renders with kubectl kustomize: relay beside IG in the gadget pod, wired to IG’s exporter config', () => {
    const dir = tempDir();
    try {
      for (const file of ['configmap.yaml', 'daemonset-patch.yaml'])
        copyFileSync(join(DIR, file), join(dir.path, file));
      writeFileSync(join(dir.path, 'gadget-daemonset.yaml'), GADGET_DAEMONSET);
      const kustomization = readFileSync(join(DIR, 'kustomization.yaml'), 'utf8').replace(
        'resources:\n',
        'resources:\n  - gadget-daemonset.yaml\n',
      );
      writeFileSync(join(dir.path, 'kustomization.yaml'), kustomization);
      const rendered = execFileSync('kubectl', ['kustomize', dir.path], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      const docs = parseAllDocuments(rendered).map((d) => d.toJS() as Record<string, unknown>);

      const ds = docs.find((d) => d.kind === 'DaemonSet') as {
        spec: { template: { spec: { containers: Container[] } } };
      };
      const names = ds.spec.template.spec.containers.map((c) => c.name);
      assert.deepEqual(names.sort(), ['gadget', 'otel-profiles-relay']);
      const relay = ds.spec.template.spec.containers.find((c) => c.name === 'otel-profiles-relay')!;
      assert.equal(relay.args?.[0], 'relay');
      const arg = (flag: string) => relay.args?.find((a) => a.startsWith(`${flag}=`))?.split('=')[1];

      const configMap = docs.find((d) => d.kind === 'ConfigMap') as { data: Record<string, string> };
      const configPath = join(dir.path, 'relay-config.yaml');
      writeFileSync(configPath, configMap.data['config.yaml'] ?? '');
      const selected = arg('--otel-profiles-exporter') ?? '';
      const config = loadConfig({
        configFile: configPath,
        env: {},
        flags: { exporterSelection: selected },
        logger: silentLogger,
      });
      assert.ok(config.exporters.get(selected), `exporter ${selected} is defined`);

      const ig = parse(readFileSync(join(DIR, 'ig-daemon-config.yaml'), 'utf8')) as {
        operator: { 'otel-profiles': { exporters: Record<string, Record<string, unknown>> } };
      };
      assert.deepEqual(ig.operator['otel-profiles'].exporters.relay, {
        exporter: 'otlp-grpc',
        endpoint: arg('--grpc'),
        insecure: true,
      });
    } finally {
      dir.cleanup();
    }
  });
});
