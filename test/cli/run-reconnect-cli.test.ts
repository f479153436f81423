import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { GadgetRow } from '../../src/rows/gadget-row.js';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { spawnCli, tempDir } from '../support/cli-harness.js';
import type { ReportJson, WatchedCli } from '../support/cli-process-watch.js';
import { reportCounter, sleep, until, watchCli } from '../support/cli-process-watch.js';
import type { DoubleStep, IgDaemonDouble, IgDaemonDoubleOptions } from '../support/ig-daemon-double.js';
import { startIgDaemonDouble } from '../support/ig-daemon-double.js';
import type { OtlpTestServer } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { exampleEmissions } from '../support/profiles-fixtures.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { getInteger } from '../../src/rows/gadget-row.js';

/**
 * `run` and `attach` against IG's daemon (the gRPC double) through a TCP proxy that is cut
 * mid-run, as `socat TCP-LISTEN:…,fork TCP:…` in front of `ig daemon` would be: the process must
 * stay up, reconnect, keep delivering, and report the gap when it is finally stopped.
 */

const emissions = exampleEmissions();
const sumOf = (rows: readonly GadgetRow[]): bigint =>
  rows.reduce((a, r) => a + getInteger(r, 'samples')!, 0n);
const before = emissions[0]!;
const afterGap = emissions[2]!;
/** Keeps a run going (in short steps, so a closed double stops at once); stop requests end it. */
const HOLD: readonly DoubleStep[] = Array.from({ length: 600 }, () => ({ waitMs: 200 }));
/** How long the process must outlive the cut (the bug: it exited within milliseconds). */
const SURVIVE_MS = 1_500;
const FAST_FLUSH = ['--set', 'operator.otel-profiles.exporters.default.batch.interval=200ms'];

function delivered(server: OtlpTestServer): bigint {
  return totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body)));
}

interface Scenario extends WatchedCli {
  readonly daemon: IgDaemonDouble;
  readonly proxy: TcpProxy;
  readonly server: OtlpTestServer;
  readonly child: ChildProcess;
  report(): ReportJson;
  /** Cuts the proxy, waits for the loss to be logged and checks the process outlives it. */
  cutAndSurvive(): Promise<void>;
  close(): Promise<void>;
}

describe('run and attach: the connection to IG drops mid-run', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  let reports = 0;

  /** The daemon double behind a proxy, an OTLP server, and the CLI (`command` + flags) between them. */
  async function scenario(
    command: readonly string[],
    options: { daemon?: IgDaemonDoubleOptions; backendDown?: boolean; args?: readonly string[] } = {},
    prepare?: (daemon: IgDaemonDouble) => void,
  ): Promise<Scenario> {
    const daemon = await startIgDaemonDouble({ ...options.daemon, tcp: true });
    prepare?.(daemon);
    const proxy = await startTcpProxy(Number(daemon.tcpAddress?.split(':').pop()));
    const server = await startHttpOtlpServer();
    if (options.backendDown) await server.stop();
    const reportPath = join(dir.path, `report-${++reports}.json`);
    const child = spawnCli([
      ...command,
      '--remote-address',
      proxy.address,
      '--endpoint',
      server.endpoint,
      '--report-json',
      reportPath,
      ...FAST_FLUSH,
      ...(options.args ?? []),
    ]);
    const watched = watchCli(child);
    return {
      ...watched,
      daemon,
      proxy,
      server,
      child,
      report: () => JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson,
      cutAndSurvive: async () => {
        await proxy.cut();
        await until(() => /lost the stream/.test(watched.stderr()), 'the loss to be noticed');
        await sleep(SURVIVE_MS);
        assert.equal(child.exitCode, null, `the process must not exit when IG drops:\n${watched.stderr()}`);
        assert.equal(child.signalCode, null);
      },
      close: async () => {
        child.kill('SIGKILL');
        await proxy.close();
        await server.close();
        await daemon.close();
      },
    };
  }

  it('run: stays up, reconnects when the proxy returns, delivers both sides of the gap and reports it on SIGTERM', async () => {
    const s = await scenario(['run', 'profile_cpu'], {
      daemon: { script: (run) => [{ rows: run === 0 ? before : afterGap }, ...HOLD] },
    });
    try {
      await until(() => delivered(s.server) === sumOf(before), 'the rows before the cut to be delivered');
      await s.cutAndSurvive();
      await s.proxy.restore();
      await until(() => (s.daemon.runs[1]?.sent ?? 0) >= 1, 'the gadget to run again after the reconnect');
      await until(
        () => delivered(s.server) === sumOf(before) + sumOf(afterGap),
        'the rows after the gap to be delivered',
      );
      s.child.kill('SIGTERM');
      assert.equal(
        await s.exit,
        3,
        `a gap that lost the daemon's unfetched samples ends with 3:\n${s.stderr()}`,
      );
      assert.match(s.stderr(), /reconnected to Inspektor Gadget at .* after \d+\.\d s without a stream/);
      assert.match(
        s.stderr(),
        /IG connection: lost 1 time\(s\), \d+\.\d s without a stream; 1 gap\(s\) where data was lost \(gadget_rerun: 1\)/,
      );
      assert.equal(s.daemon.runs[1]?.stopRequested, true, 'SIGTERM stopped the re-run gadget');
      const report = s.report();
      assert.equal(report.exitCode, 3);
      assert.equal(reportCounter(report, 'grpc_reconnects'), 1);
      assert.equal(reportCounter(report, 'grpc_input_gaps', { reason: 'gadget_rerun' }), 1);
      assert.ok(reportCounter(report, 'grpc_disconnected_ms') > 0);
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
      assert.equal(delivered(s.server), sumOf(before) + sumOf(afterGap), 'nothing delivered twice');
    } finally {
      await s.close();
    }
  });

  it('run with the backend down too: queued data waits through the IG outage and is delivered once the backend returns', async () => {
    const s = await scenario(['run', 'profile_cpu'], {
      daemon: { script: () => [{ rows: before }, ...HOLD] },
      backendDown: true,
      args: [
        '--set',
        'operator.otel-profiles.exporters.default.retry.initial_interval=200ms',
        '--set',
        'operator.otel-profiles.exporters.default.retry.max_interval=500ms',
      ],
    });
    try {
      await until(() => /sending to .* failed/.test(s.stderr()), 'a batch to be queued for the down backend');
      await s.cutAndSurvive();
      await s.server.restart();
      await until(
        () => delivered(s.server) === sumOf(before),
        'the queued batch to be delivered while IG is away',
      );
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 3, s.stderr());
      assert.match(s.stderr(), /IG connection: lost 1 time\(s\)/);
      const report = s.report();
      assert.deepEqual(report.exporters.default!.dropped, {}, 'nothing dropped');
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
      assert.equal(delivered(s.server), sumOf(before), 'every sample value arrived');
      assert.equal(reportCounter(report, 'grpc_reconnects'), 1);
      assert.ok(reportCounter(report, 'grpc_disconnected_ms') > 0, 'the outage lasted until the end');
    } finally {
      await s.close();
    }
  });

  it('attach: re-attaches after the gap, exports what the instance emitted meanwhile once, and exits 0', async () => {
    let id = '';
    const s = await scenario(['attach', 'cpu-profiling'], {}, (daemon) => {
      id = daemon.createInstance('cpu-profiling');
      daemon.instanceEmit(id, before);
    });
    try {
      await until(() => delivered(s.server) === sumOf(before), 'the replayed rows to be delivered');
      await s.proxy.cut();
      await until(() => /lost the stream/.test(s.stderr()), 'the loss to be noticed');
      s.daemon.instanceEmit(id, afterGap); // the instance keeps running while we are away
      await sleep(SURVIVE_MS);
      assert.equal(s.child.exitCode, null, `the process must not exit when IG drops:\n${s.stderr()}`);
      await s.proxy.restore();
      await until(
        () => delivered(s.server) === sumOf(before) + sumOf(afterGap),
        'the rows emitted during the gap to be delivered',
      );
      s.child.kill('SIGTERM');
      assert.equal(await s.exit, 0, `the replay covered the gap: nothing lost\n${s.stderr()}`);
      assert.match(s.stderr(), /IG connection: lost 1 time\(s\), \d+\.\d s without a stream; nothing lost/);
      assert.equal(delivered(s.server), sumOf(before) + sumOf(afterGap), 'nothing exported twice');
      const report = s.report();
      assert.equal(reportCounter(report, 'grpc_input_gaps'), 0);
      assert.ok(reportCounter(report, 'grpc_replayed_events_skipped') >= 1);
    } finally {
      await s.close();
    }
  });

  it('--reconnect-timeout bounds the outage: the run then fails with its summary and report', async () => {
    const s = await scenario(['run', 'profile_cpu'], {
      daemon: { script: () => [{ rows: before }, ...HOLD] },
      args: ['--reconnect-timeout', '2s'],
    });
    try {
      await until(() => delivered(s.server) === sumOf(before), 'the rows before the cut to be delivered');
      await s.proxy.cut();
      assert.equal(await s.exit, 1, s.stderr());
      assert.match(s.stderr(), /reconnecting for up to 2\.0 s/);
      assert.match(s.stderr(), /gave up reconnecting to Inspektor Gadget at tcp:\/\/127\.0\.0\.1:\d+ after/);
      assert.match(s.stderr(), /exporter default: delivered \d+ request/);
      const report = s.report();
      assert.equal(report.exitCode, 1);
      assert.ok(report.exporters.default!.delivered.samples > 0);
      assert.equal(report.exporters.default!.delivered.samples, reportCounter(report, 'samples_generated'));
    } finally {
      await s.close();
    }
  });
});
