import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { spawnCli, tempDir } from '../support/cli-harness.js';
import type { ReportJson } from '../support/cli-process-watch.js';
import { reportCounter, watchCli } from '../support/cli-process-watch.js';
import type { OtlpTestServer } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';

/**
 * The end of a run is bounded by --shutdown-timeout from the first signal, whatever the input
 * still does (stdin kept open by an upstream that ignores the signal), and a second signal ends
 * it at once. The backend is down, so data is pending when the signal comes.
 */

/** stdin gets this long after a signal to reach its end (STDIN_STOP_GRACE_MS) before the fix bounded it. */
const STDIN_GRACE_MS = 5_000;

/** Every sample generated was pending (the backend is down) and is counted as dropped; exit 3. */
function assertPendingDropped(reportPath: string): void {
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ReportJson;
  assert.equal(report.exitCode, 3);
  const dropped = report.exporters.default!.dropped.shutdown_timeout?.samples ?? 0;
  assert.ok(dropped > 0, 'the pending data is counted');
  assert.equal(dropped, reportCounter(report, 'samples_generated'), 'everything generated is accounted for');
}

describe('export: shutdown after a signal', () => {
  const dir = tempDir();
  let down: OtlpTestServer;
  after(async () => {
    dir.cleanup();
    await down?.close();
  });

  let runs = 0;
  async function startExport(shutdownTimeout: string) {
    const report = join(dir.path, `report-${++runs}.json`);
    down ??= await startHttpOtlpServer();
    await down.stop(); // the port stays reserved, nothing listens: every send fails
    const child = spawnCli([
      'export',
      '--endpoint',
      down.endpoint,
      '--shutdown-timeout',
      shutdownTimeout,
      '--set',
      'operator.otel-profiles.exporters.default.batch.interval=200ms',
      '--report-json',
      report,
    ]);
    // stdin stays open: like `ig run … | ig-otel-profiles export` when ig ignores the signal.
    child.stdin.write(readFileSync(BUNDLED_CAPTURE_PATH));
    const watched = watchCli(child);
    await watched.waitForStderr(/sending to .* failed/, 'a batch pending for the down backend');
    return { child, report, ...watched };
  }

  it('--shutdown-timeout starts at the signal, not after stdin has had its grace', async () => {
    const { child, report, stderr, exit, waitForStderr } = await startExport('1s');
    try {
      const signalled = Date.now();
      child.kill('SIGTERM');
      await waitForStderr(/exporter default: delivered/, 'the end-of-run summary');
      const tookMs = Date.now() - signalled;
      assert.ok(
        tookMs < STDIN_GRACE_MS,
        `the summary came ${tookMs} ms after the signal: the 1 s shutdown timeout was not the bound\n${stderr()}`,
      );
      assert.equal(await exit, 3, stderr());
      assert.match(stderr(), /the input did not end within the shutdown timeout/);
      assertPendingDropped(report);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('a second signal ends the drain at once and counts what is pending as dropped (exit 3)', async () => {
    const { child, report, stderr, exit, waitForStderr } = await startExport('10m');
    try {
      const signalled = Date.now();
      child.kill('SIGTERM');
      await waitForStderr(/SIGTERM: stopping the input/, 'the first signal to be handled');
      child.kill('SIGTERM');
      await waitForStderr(/exporter default: delivered/, 'the end-of-run summary');
      const tookMs = Date.now() - signalled;
      // Before the fix: after stdin's whole grace (~5 s); now: at once (tens of ms).
      assert.ok(
        tookMs < STDIN_GRACE_MS - 2_000,
        `the summary came ${tookMs} ms after the signals\n${stderr()}`,
      );
      assert.equal(await exit, 3, stderr());
      assert.match(stderr(), /SIGTERM again: abandoning the drain/);
      assertPendingDropped(report);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
