import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { runCli, tempDir } from '../support/cli-harness.js';

interface PrintedExporter {
  readonly exporter: string;
  readonly endpoint?: string;
  readonly timeout: string;
  readonly headers?: Record<string, string>;
  readonly path?: string;
}

function exportersOf(stdout: string): Record<string, PrintedExporter> {
  const doc = parse(stdout) as {
    operator: { 'otel-profiles': { exporters: Record<string, PrintedExporter> } };
  };
  return doc.operator['otel-profiles'].exporters;
}

describe('--print-config', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('prints the merged effective configuration with header values redacted, runs nothing and exits 0', async () => {
    const res = await runCli(
      [
        'export',
        '--print-config',
        '--endpoint',
        'http://collector:4318',
        '--header',
        'authorization=Bearer TOPSECRET',
        '--set',
        'operator.otel-profiles.exporters.default.retry.max_elapsed_time=1m',
      ],
      { env: { OTEL_EXPORTER_OTLP_TIMEOUT: '3000' } },
    );
    assert.equal(res.code, 0, res.stderr);
    assert.doesNotMatch(res.stdout + res.stderr, /TOPSECRET/);
    assert.doesNotMatch(res.stderr, /^input: /m, 'no session ran');
    assert.match(res.stdout, /^# source: env OTEL_EXPORTER_OTLP_TIMEOUT$/m);
    const printed = exportersOf(res.stdout).default;
    assert.equal(printed?.exporter, 'otlp-http');
    assert.equal(printed?.endpoint, 'http://collector:4318/v1development/profiles');
    assert.equal(printed?.timeout, '3s');
    assert.deepEqual(printed?.headers, { authorization: '<redacted>' });
    assert.match(res.stdout, /max_elapsed_time: 1m/);
  });

  it('what it prints loads back to the same configuration', async () => {
    const first = await runCli([
      'export',
      '--print-config',
      '--set',
      'operator.otel-profiles.exporters.f.exporter=file',
      '--set',
      `operator.otel-profiles.exporters.f.path=${join(dir.path, 'out.jsonl')}`,
      '--set',
      'operator.otel-profiles.exporters.f.batch.interval=2s',
      '--otel-profiles-exporter',
      'f',
    ]);
    assert.equal(first.code, 0, first.stderr);
    const file = join(dir.path, 'printed.yaml');
    writeFileSync(file, first.stdout);
    const second = await runCli(['export', '--print-config', '-c', file]);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual(exportersOf(second.stdout), exportersOf(first.stdout));
  });

  it('run and attach print without contacting the daemon, with --otlp-timeout as the request timeout', async () => {
    const unreachable = `unix://${join(dir.path, 'no-daemon.sock')}`;
    for (const command of ['run', 'attach']) {
      const res = await runCli([
        command,
        'profile_cpu',
        '--remote-address',
        unreachable,
        '--otlp-timeout',
        '7s',
        '--print-config',
      ]);
      assert.equal(res.code, 0, `${command}: ${res.stderr}`);
      assert.equal(exportersOf(res.stdout).default?.timeout, '7s');
    }
    const demo = await runCli(['demo', '--print-config', '--out', join(dir.path, 'demo')]);
    assert.equal(demo.code, 0, demo.stderr);
    assert.deepEqual(Object.keys(exportersOf(demo.stdout)), ['otlp-file', 'pprof', 'summary']);
  });

  it('a configuration mistake is still a usage error', async () => {
    const res = await runCli(['export', '--print-config', '--timeout', 'soon']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--timeout: "soon" is not a duration/);
  });
});
