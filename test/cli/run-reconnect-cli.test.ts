import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { GadgetRow } from '../../src/gadget-bridge/gadget-row.js';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/otlp-model.js';
import { spawnCli, tempDir } from '../support/cli-harness.js';
import type { DoubleStep } from '../support/ig-daemon-double.js';
import { startIgDaemonDouble } from '../support/ig-daemon-double.js';
import type { OtlpTestServer } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { exampleEmissions } from '../support/profiles-fixtures.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import type { ReportJson } from '../support/cli-process-watch.js';
import { reportCounter, sleep, until, watchCli } from '../support/cli-process-watch.js';

/**
 * `run` against IG's daemon (the gRPC double) through a TCP proxy that is cut mid-run, as
 * `socat TCP-LISTEN:…,fork TCP:…` in front of `ig daemon` would be: the process must stay up,
 * reconnect, keep delivering, and report the gap when it is finally stopped.
 */

const emissions = exampleEmissions();
const sumOf = (rows: readonly GadgetRow[]): bigint =>
  rows.reduce((a, r) => a + BigInt(r.samples as number), 0n);
const before = emissions[0]!;
const afterGap = emissions[2]!;
/** Keeps a run going (in short steps, so a closed double stops at once); stop requests end it. */
const HOLD: readonly DoubleStep[] = Array.from({ length: 600 }, () => ({ waitMs: 200 }));
/** How long the process must outlive the cut (the bug: it exited within milliseconds). */
const SURVIVE_MS = 1_500;

const portOf = (address: string | undefined): number => Number(address?.split(':').pop());
function delivered(server: OtlpTestServer): bigint {
  return totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body)));
}

describe('run: the connection to IG drops mid-run', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('stays up, reconnects when the proxy returns, delivers both sides of the gap and reports it on SIGTERM', async () => {
    const daemon = await startIgDaemonDouble({
      tcp: true,
      script: (run) => [{ rows: run === 0 ? before : afterGap }, ...HOLD],
    });
    const proxy = await startTcpProxy(portOf(daemon.tcpAddress));
    const server = await startHttpOtlpServer();
    const reportPath = join(dir.path, 'report-gap.json');
    const child = spawnCli([
      'run',
      'profile_cpu',
      '--remote-address',
      proxy.address,
      '--endpoint',
      server.endpoint,
      '--set',
      'operator.otel-profiles.exporters.default.batch.interval=200ms',
      '--report-json',
      reportPath,
    ]);
    const { stderr, exit } = watchCli(child);
    try {
      await until(() => delivered(server) === sumOf(before), 'the rows before the cut to be delivered');
      await proxy.cut();
      await until(() => /lost the stream/.test(stderr()), 'the loss to be noticed');
      await sleep(SURVIVE_MS);
      assert.equal(child.exitCode, null, `the process must not exit when IG drops:\n${stderr()}`);
      assert.equal(child.signalCode, null);

      await proxy.restore();
      await until(() => (daemon.runs[1]?.sent ?? 0) >= 1, 'the gadget to run again after the reconnect');
      await until(
        () => delivered(server) === sumOf(before) + sumOf(afterGap),
        'the rows after the gap to be delivered',
      );
      child.kill('SIGTERM');
      const code = await exit;
      assert.equal(code, 3, `a gap that lost the daemon's unfetched samples ends with 3:\n${stderr()}`);
      assert.match(stderr(), /reconnected to Inspektor Gadget at .* after \d+\.\d s without a stream/);
      assert.match(
        stderr(),
        /IG connection: lost 1 time\(s\), \d+\.\d s without a stream; 1 gap\(s\) where data was lost \(gadget_rerun: 1\)/,
      );
      assert.equal(daemon.runs[1]?.stopRequested, true, 'SIGTERM stopped the re-run gadget');
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson;
      assert.equal(report.exitCode, 3);
      assert.equal(reportCounter(report, 'grpc_reconnects'), 1);
      assert.equal(reportCounter(report, 'grpc_input_gaps', { reason: 'gadget_rerun' }), 1);
      assert.ok(reportCounter(report, 'grpc_disconnected_ms') > 0);
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
      assert.equal(delivered(server), sumOf(before) + sumOf(afterGap), 'nothing delivered twice');
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
      await server.close();
      await daemon.close();
    }
  });

  it('with the backend down too, queued data waits through the IG outage and is delivered once the backend returns', async () => {
    const daemon = await startIgDaemonDouble({ tcp: true, script: () => [{ rows: before }, ...HOLD] });
    const proxy = await startTcpProxy(portOf(daemon.tcpAddress));
    const server = await startHttpOtlpServer();
    await server.stop();
    const reportPath = join(dir.path, 'report-queued.json');
    const child = spawnCli([
      'run',
      'profile_cpu',
      '--remote-address',
      proxy.address,
      '--endpoint',
      server.endpoint,
      '--set',
      'operator.otel-profiles.exporters.default.batch.interval=200ms',
      '--set',
      'operator.otel-profiles.exporters.default.retry.initial_interval=200ms',
      '--set',
      'operator.otel-profiles.exporters.default.retry.max_interval=500ms',
      '--report-json',
      reportPath,
    ]);
    const { stderr, exit } = watchCli(child);
    try {
      await until(() => /sending to .* failed/.test(stderr()), 'a batch to be queued for the down backend');
      await proxy.cut();
      await until(() => /lost the stream/.test(stderr()), 'the loss to be noticed');
      await sleep(SURVIVE_MS);
      assert.equal(child.exitCode, null, `queued data must keep the process up:\n${stderr()}`);

      await server.restart();
      await until(
        () => delivered(server) === sumOf(before),
        'the queued batch to be delivered while IG is away',
      );
      child.kill('SIGTERM');
      const code = await exit;
      assert.equal(code, 3, stderr());
      assert.match(stderr(), /IG connection: lost 1 time\(s\)/);
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson;
      assert.deepEqual(report.exporters.default!.dropped, {}, 'nothing dropped');
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
      assert.equal(delivered(server), sumOf(before), 'every sample value arrived');
      assert.equal(reportCounter(report, 'grpc_reconnects'), 1);
      assert.ok(reportCounter(report, 'grpc_disconnected_ms') > 0, 'the outage lasted until the end');
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
      await server.close();
      await daemon.close();
    }
  });

  it('attach: re-attaches after the gap, exports what the instance emitted meanwhile once, and exits 0', async () => {
    const daemon = await startIgDaemonDouble({ tcp: true });
    const id = daemon.createInstance('cpu-profiling');
    daemon.instanceEmit(id, before);
    const proxy = await startTcpProxy(portOf(daemon.tcpAddress));
    const server = await startHttpOtlpServer();
    const reportPath = join(dir.path, 'report-attach.json');
    const child = spawnCli([
      'attach',
      'cpu-profiling',
      '--remote-address',
      proxy.address,
      '--endpoint',
      server.endpoint,
      '--set',
      'operator.otel-profiles.exporters.default.batch.interval=200ms',
      '--report-json',
      reportPath,
    ]);
    const { stderr, exit } = watchCli(child);
    try {
      await until(() => delivered(server) === sumOf(before), 'the replayed rows to be delivered');
      await proxy.cut();
      await until(() => /lost the stream/.test(stderr()), 'the loss to be noticed');
      daemon.instanceEmit(id, afterGap); // the instance keeps running while we are away
      await sleep(SURVIVE_MS);
      assert.equal(child.exitCode, null, `the process must not exit when IG drops:\n${stderr()}`);
      await proxy.restore();
      await until(
        () => delivered(server) === sumOf(before) + sumOf(afterGap),
        'the rows emitted during the gap to be delivered',
      );
      child.kill('SIGTERM');
      assert.equal(await exit, 0, `the replay covered the gap: nothing lost\n${stderr()}`);
      assert.match(stderr(), /IG connection: lost 1 time\(s\), \d+\.\d s without a stream; nothing lost/);
      assert.equal(delivered(server), sumOf(before) + sumOf(afterGap), 'nothing exported twice');
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson;
      assert.equal(reportCounter(report, 'grpc_input_gaps'), 0);
      assert.ok(reportCounter(report, 'grpc_replayed_events_skipped') >= 1);
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
      await server.close();
      await daemon.close();
    }
  });

  it('--reconnect-timeout bounds the outage: the run then fails with its summary and report', async () => {
    const daemon = await startIgDaemonDouble({ tcp: true, script: () => [{ rows: before }, ...HOLD] });
    const proxy = await startTcpProxy(portOf(daemon.tcpAddress));
    const server = await startHttpOtlpServer();
    const reportPath = join(dir.path, 'report-bound.json');
    const child = spawnCli([
      'run',
      'profile_cpu',
      '--remote-address',
      proxy.address,
      '--endpoint',
      server.endpoint,
      '--reconnect-timeout',
      '2s',
      '--set',
      'operator.otel-profiles.exporters.default.batch.interval=200ms',
      '--report-json',
      reportPath,
    ]);
    const { stderr, exit } = watchCli(child);
    try {
      await until(() => delivered(server) === sumOf(before), 'the rows before the cut to be delivered');
      await proxy.cut();
      const code = await exit;
      assert.equal(code, 1, stderr());
      assert.match(stderr(), /reconnecting for up to 2\.0 s/);
      assert.match(stderr(), /gave up reconnecting to Inspektor Gadget at tcp:\/\/127\.0\.0\.1:\d+ after/);
      assert.match(stderr(), /exporter default: delivered \d+ request/);
      const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson;
      assert.equal(report.exitCode, 1);
      assert.ok(report.exporters.default!.delivered.samples > 0);
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
    } finally {
      child.kill('SIGKILL');
      await proxy.close();
      await server.close();
      await daemon.close();
    }
  });
});
