import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readOtlpFile } from '../../src/exporter/sinks/file-sink.js';
import { fromOtlpJson } from '../../src/profiles/encoding/otlp-json.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { assertConforms } from '../../src/profiles/validation/conformance-validator.js';
import { runCli, spawnCli, tempDir } from '../support/cli-harness.js';
import { startIgDaemonDouble } from '../support/ig-daemon-double.js';
import { startK8sApiDouble } from '../support/k8s-api-double.js';
import { exampleEmissions } from '../support/profiles-fixtures.js';
import { getInteger, getString } from '../../src/rows/gadget-row.js';

function nodesIn(requests: readonly ExportProfilesServiceRequest[]): Set<string> {
  const nodes = new Set<string>();
  for (const r of requests)
    for (const rp of r.resourceProfiles) {
      const v = rp.resource?.attributes.find((a) => a.key === 'k8s.node.name')?.value;
      if (v && 'stringValue' in v) nodes.add(v.stringValue);
    }
  return nodes;
}

function tcpPort(address: string | undefined): number {
  return Number(/:(\d+)$/.exec(address ?? '')?.[1]);
}

describe('run --k8s: every node through the Kubernetes API server, like kubectl gadget', () => {
  it('runs the gadget on both nodes through port-forwards and exports both (final flushes included)', async () => {
    const rows = exampleEmissions()[4] ?? [];
    const byNode = new Map<string, typeof rows>();
    for (const r of rows) {
      const node = getString(r, 'k8s.node');
      byNode.set(node, [...(byNode.get(node) ?? []), r]);
    }
    const [[nodeA, rowsA], [nodeB, rowsB]] = [...byNode] as [[string, typeof rows], [string, typeof rows]];
    const daemonA = await startIgDaemonDouble({
      tcp: true,
      script: () => [{ rows: rowsA }],
      finalFlush: () => rowsA,
    });
    const daemonB = await startIgDaemonDouble({
      tcp: true,
      script: () => [{ rows: rowsB }],
      finalFlush: () => rowsB,
    });
    const api = await startK8sApiDouble();
    api.addPod({ name: 'gadget-a', nodeName: nodeA, target: { port: tcpPort(daemonA.tcpAddress) } });
    api.addPod({ name: 'gadget-b', nodeName: nodeB, target: { port: tcpPort(daemonB.tcpAddress) } });
    const dir = tempDir();
    const out = join(dir.path, 'out.jsonl');
    try {
      const child = spawnCli([
        'run',
        'profile_cpu',
        '--k8s',
        '--kubeconfig',
        api.kubeconfigPath,
        '-A',
        '--collect-ustack',
        '--set',
        'operator.otel-profiles.exporters.f.exporter=file',
        '--set',
        `operator.otel-profiles.exporters.f.path=${out}`,
        '--otel-profiles-exporter',
        'f',
      ]);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      await daemonA.waitFor(() => (daemonA.runs[0]?.sent ?? 0) >= 1, 20_000, 'node A running');
      await daemonB.waitFor(() => (daemonB.runs[0]?.sent ?? 0) >= 1, 20_000, 'node B running');
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, stderr);
      for (const d of [daemonA, daemonB]) {
        assert.equal(d.runs[0]?.request.paramValues?.['operator.oci.ebpf.collect-ustack'], 'true');
        assert.equal(d.runs[0]?.stopRequested, true, 'each node got the stop request');
      }
      const requests: ExportProfilesServiceRequest[] = [];
      for await (const line of readOtlpFile(out, 'json')) requests.push(fromOtlpJson(line));
      for (const r of requests) assertConforms(r);
      assert.deepEqual([...nodesIn(requests)].sort(), [nodeA, nodeB].sort());
      const total = totalSampleValue(requests);
      const fetched = [...rowsA, ...rowsB].reduce((a, r) => a + getInteger(r, 'samples')!, 0n);
      assert.equal(total, fetched * 2n, 'first fetch and final flush of both nodes');
    } finally {
      dir.cleanup();
      await api.close();
      await daemonA.close();
      await daemonB.close();
    }
  });

  it('with --timeout, ends by itself once the gadget ended on every node (like kubectl gadget run --timeout)', async () => {
    const rows = exampleEmissions()[4] ?? [];
    const daemons = await Promise.all(
      [0, 1].map(() => startIgDaemonDouble({ tcp: true, script: () => [{ rows }], endAfterScript: true })),
    );
    const api = await startK8sApiDouble();
    daemons.forEach((d, i) =>
      api.addPod({ name: `gadget-${i}`, nodeName: `node-${i}`, target: { port: tcpPort(d.tcpAddress) } }),
    );
    try {
      const res = await runCli([
        'run',
        'profile_cpu',
        '--k8s',
        '--kubeconfig',
        api.kubeconfigPath,
        '--timeout',
        '1s',
        '--set',
        'operator.otel-profiles.exporters.d.exporter=debug',
        '--otel-profiles-exporter',
        'd',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stderr, /the gadget ended on every node/);
      for (const d of daemons)
        assert.equal(d.runs[0]?.request.timeout, 1_000_000_000n, 'IG gets the run time in ns');
      const delivered = /exporter d: delivered \d+ request\(s\), \d+ profile\(s\), (\d+) sample/.exec(
        res.stderr,
      )?.[1];
      assert.ok(Number(delivered) > 0);
    } finally {
      await api.close();
      await Promise.all(daemons.map((d) => d.close()));
    }
  });

  it('says what to do when no gadget pod exists', async () => {
    const api = await startK8sApiDouble();
    try {
      const res = await runCli([
        'run',
        'profile_cpu',
        '--k8s',
        '--kubeconfig',
        api.kubeconfigPath,
        '--set',
        'operator.otel-profiles.exporters.d.exporter=debug',
        '--otel-profiles-exporter',
        'd',
      ]);
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        /no gadget pods found in namespace gadget: is Inspektor Gadget deployed\? \(kubectl gadget deploy\)/,
      );
    } finally {
      await api.close();
    }
  });

  const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  it(
    'installs as a kubectl plugin: kubectl otel-profiles …',
    {
      skip:
        kubectl.status === 0
          ? false
          : 'kubectl is not installed (a kubectl plugin needs kubectl to be tested)',
    },
    () => {
      const dir = tempDir();
      try {
        const bin = join(dir.path, 'bin');
        mkdirSync(bin);
        symlinkSync(
          new URL('../../bin/ig-otel-profiles.js', import.meta.url).pathname,
          join(bin, 'kubectl-otel_profiles'),
        );
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
        const plugins = execFileSync('kubectl', ['plugin', 'list'], { env, encoding: 'utf8' });
        assert.match(plugins, /kubectl-otel_profiles/);
        const help = execFileSync('kubectl', ['otel-profiles', 'run', '--help'], { env, encoding: 'utf8' });
        assert.match(help, /kubectl otel-profiles run profile_cpu/);
      } finally {
        dir.cleanup();
      }
    },
  );
});
