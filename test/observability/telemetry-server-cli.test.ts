import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { countRequest } from '../../src/profiles/model/otlp-model.js';
import { spawnCli, tempDir } from '../support/cli-harness.js';
import type { ReportJson } from '../support/cli-process-watch.js';
import { reportCounter, sleep, until, watchCli } from '../support/cli-process-watch.js';
import { startIgDaemonDouble } from '../support/ig-daemon-double.js';
import { exampleLines } from '../support/json-input-fixtures.js';
import type { OtlpTestServer } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { exampleEmissions } from '../support/profiles-fixtures.js';

/**
 * `--telemetry-address` end to end: a real export into a real OTLP server, scraped by a real
 * Prometheus and checked by promtool; and a `run` started before IG's daemon exists, whose
 * /readyz says so until the daemon comes up.
 */

const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const FAST_FLUSH = ['--set', 'operator.otel-profiles.exporters.default.batch.interval=200ms'];

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const address = server.address();
  await new Promise<void>((r) => server.close(() => r()));
  if (address === null || typeof address !== 'object') throw new Error('no port');
  return address.port;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers });
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

/** Polls `read` until it returns a value, ignoring connection errors (the server may not be up yet). */
async function eventually<T>(
  read: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function samplesReceived(server: OtlpTestServer): number {
  return server.requests.reduce((a, r) => a + countRequest(decodeExportRequest(r.body)).samples, 0);
}

describe('telemetry: /metrics scraped by Prometheus equals what the backend received', () => {
  const dir = tempDir();
  const children: ChildProcess[] = [];
  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    dir.cleanup();
  });

  it('samples exported, requests and the report agree; promtool accepts the text; OpenMetrics on request', async (t) => {
    if (!existsSync(PROMETHEUS) || !existsSync(PROMTOOL)) {
      t.skip(
        `${PROMETHEUS} or ${PROMTOOL} is not installed (Debian package prometheus; .ci/run installs it)`,
      );
      return;
    }
    const server = await startHttpOtlpServer();
    const input = join(dir.path, 'gadget.jsonl');
    const report = join(dir.path, 'report.json');
    writeFileSync(input, exampleLines().join('\n') + '\n');
    const port = await freePort();
    const child = spawnCli([
      'export',
      '--follow',
      '--input',
      input,
      '--endpoint',
      server.endpoint,
      '--telemetry-address',
      `127.0.0.1:${port}`,
      '--report-json',
      report,
      ...FAST_FLUSH,
    ]);
    children.push(child);
    const cli = watchCli(child);
    const base = `http://127.0.0.1:${port}`;
    let prometheus: ChildProcess | undefined;
    try {
      await cli.waitForStderr(/\[telemetry\] serving \/metrics/, 'the telemetry server');
      await until(() => samplesReceived(server) > 0, 'requests at the OTLP server');
      // Follow mode stays up after the file is read: wait until nothing more arrives.
      let seen = -1;
      while (seen !== samplesReceived(server)) {
        seen = samplesReceived(server);
        await sleep(1_000);
      }
      const received = samplesReceived(server);

      const text = await get(`${base}/metrics`);
      assert.equal(text.status, 200);
      assert.match(text.type, /^text\/plain; version=0\.0\.4/);
      assert.match(
        text.body,
        new RegExp(`^ig_otel_profiles_samples_exported_total\\{exporter="default"\\} ${received}$`, 'm'),
      );
      assert.match(
        text.body,
        new RegExp(
          `^ig_otel_profiles_export_requests_total\\{exporter="default",outcome="success"\\} ${server.requests.length}$`,
          'm',
        ),
      );
      assert.match(text.body, /^ig_otel_profiles_rows_received_total\{source="file"\} [1-9]/m);
      assert.match(
        text.body,
        /^ig_otel_profiles_queue_max_requests\{exporter="default",queue="memory"\} 1000$/m,
      );
      assert.match(
        text.body,
        /^ig_otel_profiles_export_duration_seconds_count\{exporter="default",outcome="success"\} [1-9]/m,
      );
      assert.match(text.body, /^ig_otel_profiles_input_connected\{source="file"\} 1$/m);
      const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text.body, encoding: 'utf8' });
      assert.equal(check.status, 0, `promtool check metrics:\n${check.stdout}${check.stderr}`);

      const open = await get(`${base}/metrics`, { accept: 'application/openmetrics-text; version=1.0.0' });
      assert.match(open.type, /^application\/openmetrics-text/);
      assert.match(open.body, /^# TYPE ig_otel_profiles_samples_exported counter$/m);
      assert.match(open.body, /# EOF\n$/);
      assert.deepEqual(
        [(await get(`${base}/healthz`)).status, (await get(`${base}/readyz`)).status],
        [200, 200],
      );
      assert.equal((await get(`${base}/nope`)).status, 404);

      const promPort = await freePort();
      const config = join(dir.path, 'prometheus.yml');
      writeFileSync(
        config,
        `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['127.0.0.1:${port}']\n`,
      );
      prometheus = spawn(
        PROMETHEUS,
        [
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(dir.path, 'tsdb')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: 'ignore' },
      );
      children.push(prometheus);
      const query = `http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent('ig_otel_profiles_samples_exported_total')}`;
      const scraped = await eventually(
        async () => {
          const res = await get(query);
          const parsed = JSON.parse(res.body) as {
            data?: { result?: { metric: Record<string, string>; value: [number, string] }[] };
          };
          return parsed.data?.result?.[0];
        },
        'Prometheus to scrape the exporter',
        60_000,
      );
      assert.equal(scraped.metric.exporter, 'default');
      assert.equal(scraped.metric.job, 'exporter');
      assert.equal(Number(scraped.value[1]), received);

      child.kill('SIGTERM');
      assert.equal(await cli.exit, 0, cli.stderr());
      const json = JSON.parse(readFileSync(report, 'utf8')) as ReportJson;
      assert.equal(reportCounter(json, 'samples_sent', { exporter: 'default' }), received);
      assert.equal(json.exporters.default?.delivered.samples, received);
    } finally {
      prometheus?.kill('SIGTERM');
      if (child.exitCode === null) child.kill('SIGKILL');
      await server.close();
    }
  });
});

describe('telemetry: a run started before IG daemon waits for it', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('stays up and not ready (/readyz 503 naming the daemon), then runs once the daemon appears (/readyz 200)', async () => {
    const emissions = exampleEmissions();
    const socketPath = join(dir.path, 'ig.socket');
    const server = await startHttpOtlpServer();
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawnCli([
      'run',
      'profile_cpu',
      '--remote-address',
      `unix://${socketPath}`,
      '--endpoint',
      server.endpoint,
      '--telemetry-address',
      `127.0.0.1:${port}`,
      '--log-format',
      'json',
      ...FAST_FLUSH,
    ]);
    const cli = watchCli(child);
    let daemon: Awaited<ReturnType<typeof startIgDaemonDouble>> | undefined;
    try {
      const notReady = await eventually(async () => {
        const res = await get(`${base}/readyz`);
        return res.status === 503 && /unreachable/.test(res.body) ? res : undefined;
      }, '/readyz 503');
      assert.match(notReady.body, /^IG daemon unreachable: .*ig\.socket.*\n$/);
      assert.equal((await get(`${base}/healthz`)).status, 200);
      await sleep(1_500);
      assert.equal(child.exitCode, null, `the process must wait, not exit:\n${cli.stderr()}`);

      daemon = await startIgDaemonDouble({
        socketPath,
        script: () => [{ rows: emissions[0] ?? [] }, ...Array.from({ length: 300 }, () => ({ waitMs: 200 }))],
      });
      await eventually(
        async () => ((await get(`${base}/readyz`)).status === 200 ? true : undefined),
        '/readyz 200',
      );
      await until(() => server.requests.length > 0, 'an export after the daemon came up');
      child.kill('SIGTERM');
      assert.equal(await cli.exit, 0, cli.stderr());
      // --log-format json: every stderr line before the final report is one JSON object with the stable keys.
      const lines = cli
        .stderr()
        .split('\n')
        .filter((l) => l.startsWith('{'));
      assert.ok(lines.length > 2);
      for (const line of lines) {
        const event = JSON.parse(line) as Record<string, unknown>;
        assert.deepEqual(Object.keys(event).slice(0, 2), ['time', 'level']);
        assert.equal(typeof event.msg, 'string');
      }
      assert.ok(
        lines.some((l) => /"level":"warn","logger":"ig","msg":"cannot reach/.test(l)),
        cli.stderr(),
      );
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await daemon?.close();
      await server.close();
    }
  });
});
