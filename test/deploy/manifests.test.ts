import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { RUN_HELP } from '../../src/cli/run-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { tempDir } from '../support/cli-harness.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Container {
  name: string;
  args?: string[];
}

const MANIFESTS = [
  'deploy/k8s/sidecar/configmap.yaml',
  'deploy/k8s/sidecar/daemonset-patch.yaml',
  'deploy/k8s/cluster/ig-otel-profiles.yaml',
].map((p) => new URL(`../../${p}`, import.meta.url).pathname);

const docs = MANIFESTS.flatMap((p) =>
  parseAllDocuments(readFileSync(p, 'utf8')).map((d) => d.toJS() as Record<string, unknown>),
);

describe('deploy/k8s manifests', () => {
  it('their config.yaml loads with the real config loader and defines the exporter the containers select', () => {
    const configs = docs
      .filter((d) => d.kind === 'ConfigMap')
      .map((d) => (d.data as Record<string, string>)['config.yaml'] ?? '');
    assert.ok(configs.length >= 2);
    const containers = docs
      .filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment')
      .flatMap(
        (d) => (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers ?? [],
      )
      .filter((c) => c.args?.[0] === 'run');
    assert.equal(containers.length, 2);
    const dir = tempDir();
    try {
      for (const [i, text] of configs.entries()) {
        const path = join(dir.path, `c${i}.yaml`);
        writeFileSync(path, text);
        const selected = containers.map(
          (c) => c.args?.find((a) => a.startsWith('--otel-profiles-exporter='))?.split('=')[1],
        );
        const name = selected.find((s) => s !== undefined && text.includes(`${s}:`));
        assert.ok(name, 'a container selects an exporter this config defines');
        // The queue directory of the sidecar is a hostPath; the loader only validates, it creates nothing.
        const config = loadConfig({
          configFile: path,
          env: {},
          flags: { exporterSelection: name },
          logger: silentLogger,
        });
        assert.ok(config.exporters.get(name));
      }
    } finally {
      dir.cleanup();
    }
  });

  it('every flag the containers pass is one the run command documents', () => {
    const args = docs
      .filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment')
      .flatMap(
        (d) => (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers,
      )
      .flatMap((c) => c.args ?? []);
    const flags = args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!);
    assert.ok(flags.length > 5);
    for (const flag of flags) assert.ok(RUN_HELP.includes(flag), `${flag} is documented in run --help`);
  });
});
