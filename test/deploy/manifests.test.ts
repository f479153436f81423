import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { imageNodeOptions } from '../../bench/shipped-cli.js';
import { RUN_HELP } from '../../src/cli/run-command.js';
import { loadConfig } from '../../src/config/load-config.js';
import { silentLogger } from '../../src/observability/logger.js';
import { tempDir } from '../support/cli-harness.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
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

  it("the exporter containers run with the Dockerfile's NODE_OPTIONS, and node accepts them", () => {
    const image = imageNodeOptions(); // throws when the Dockerfile sets none
    const ours = docs
      .filter((d) => d.kind === 'DaemonSet' || d.kind === 'Deployment')
      .flatMap(
        (d) => (d.spec as { template: { spec: { containers: Container[] } } }).template.spec.containers,
      )
      .filter((c) => c.args?.[0] === 'run');
    assert.equal(ours.length, 2);
    for (const c of ours) {
      // The benchmarks measure the image's flags: a manifest that differs runs unmeasured.
      assert.equal(c.env?.find((e) => e.name === 'NODE_OPTIONS')?.value, image, c.name);
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
