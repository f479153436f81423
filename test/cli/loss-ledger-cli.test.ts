import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../support/cli-harness.js';
import { exportWithReport } from '../support/export-report.js';
import type { OtlpTestServerOptions } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';

/**
 * Whatever stage drops data, the end-of-run summary, --report-json and the exit status agree: each
 * case makes one stage lose something and checks all three against the report's loss ledger.
 */

const set = (key: string): string[] => ['--set', `operator.otel-profiles.exporters.default.${key}`];
const capture = readFileSync(BUNDLED_CAPTURE_PATH, 'utf8');

interface Case {
  readonly stage: string;
  readonly reason: string;
  /** Where the summary shows it. */
  readonly shownAs: 'exporter drop' | 'rows' | 'rejected' | 'malformed';
  readonly server?: OtlpTestServerOptions;
  readonly args?: readonly string[];
  /** stdin instead of the bundled capture. */
  readonly stdin?: string;
  /** Prepares files in a fresh directory and returns more arguments. */
  readonly prepare?: (dir: string) => string[];
}

const CASES: readonly Case[] = [
  {
    stage: 'request build (a lone stack over batch.max_request_size)',
    reason: 'too_large',
    shownAs: 'exporter drop',
    args: set('batch.max_request_size=1KiB'),
  },
  {
    stage: 'a split after 413 (a lone stack the backend still refuses)',
    reason: 'too_large',
    shownAs: 'exporter drop',
    server: { maxRequestBytes: 0 },
  },
  {
    stage: 'queue overflow',
    reason: 'queue_full',
    shownAs: 'exporter drop',
    server: { defaultResponse: { delayMs: 300 } },
    args: [...set('batch.max_request_size=8KiB'), ...set('queue.max_requests=1')],
  },
  {
    stage: 'a damaged file in the persistent queue',
    reason: 'corrupt_file',
    shownAs: 'exporter drop',
    prepare: (dir) => {
      const queue = join(dir, 'queue');
      mkdirSync(queue);
      writeFileSync(join(queue, '1.batch'), 'not a queue record');
      return set(`queue.directory=${queue}`);
    },
  },
  {
    stage: 'retries given up',
    reason: 'retries_exhausted',
    shownAs: 'exporter drop',
    server: { defaultResponse: { httpStatus: 503 } },
    args: [
      ...set('retry.initial_interval=10ms'),
      ...set('retry.max_interval=20ms'),
      ...set('retry.max_elapsed_time=100ms'),
    ],
  },
  {
    stage: 'a permanent refusal',
    reason: 'permanent_error',
    shownAs: 'exporter drop',
    server: { defaultResponse: { httpStatus: 400, body: 'bad profile' } },
  },
  {
    stage: 'the shutdown deadline (memory queue)',
    reason: 'shutdown_timeout',
    shownAs: 'exporter drop',
    server: { defaultResponse: { hang: true } },
    args: ['--shutdown-timeout', '300ms'],
  },
  {
    stage: 'a partial success',
    reason: 'rejected_by_backend',
    shownAs: 'rejected',
    server: { defaultResponse: { partialSuccess: { rejected: 1, message: 'one profile is bad' } } },
  },
  {
    stage: 'routing (a datasource no exporter is selected for)',
    reason: 'no_exporter_selected',
    shownAs: 'rows',
    args: ['--otel-profiles-exporter', 'elsewhere:default'],
  },
  {
    stage: 'invalid rows',
    reason: 'invalid_value',
    shownAs: 'rows',
    stdin: capture.replace('"samples":3', '"samples":-3'),
  },
  {
    stage: 'a malformed line',
    reason: 'malformed_json',
    shownAs: 'malformed',
    stdin: capture.split('\n').toSpliced(2, 0, '[{"samples": 3, "kern_stack": "oops"').join('\n'),
  },
];

describe('the loss ledger: summary, --report-json and exit status agree whatever stage dropped', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  for (const c of CASES) {
    it(c.stage, async () => {
      const server = await startHttpOtlpServer(c.server ?? {});
      const reportPath = join(dir.path, `${c.reason}-${CASES.indexOf(c)}.json`);
      try {
        const prepared = c.prepare?.(mkdtempSync(join(dir.path, 'case-'))) ?? [];
        const { res, report } = await exportWithReport(
          server.endpoint,
          reportPath,
          [...(c.args ?? []), ...prepared],
          c.stdin,
        );
        assert.equal(res.code, 3, res.stderr);
        assert.equal(report.exitCode, 3);
        const loss = report.losses.find((l) => l.reason === c.reason);
        assert.ok(loss, `the ledger has ${c.reason}: ${JSON.stringify(report.losses)}`);
        const { rows, values, requests = 0, profiles = 0, samples = 0 } = loss.counts;
        switch (c.shownAs) {
          case 'exporter drop': {
            assert.equal(loss.exporter, 'default');
            assert.deepEqual(report.exporters.default?.dropped[c.reason], { requests, profiles, samples });
            assert.ok(requests + profiles + samples > 0);
            assert.match(
              res.stderr,
              new RegExp(
                `^  dropped \\(${c.reason}\\): ${requests} request\\(s\\), ${profiles} profile\\(s\\), ${samples} sample\\(s\\)$`,
                'm',
              ),
            );
            break;
          }
          case 'rejected':
            assert.equal(report.exporters.default?.rejectedByBackend, profiles);
            assert.ok(profiles > 0);
            assert.match(res.stderr, new RegExp(`backend rejected ${profiles} profile\\(s\\)`));
            break;
          case 'rows':
            assert.ok((rows ?? 0) > 0);
            assert.match(
              res.stderr,
              new RegExp(`^  rows dropped \\(${c.reason}(, default)?\\): ${rows}$`, 'm'),
            );
            break;
          case 'malformed':
            assert.ok((values ?? 0) > 0);
            assert.match(res.stderr, new RegExp(`, ${values} malformed value\\(s\\) skipped`));
            break;
        }
      } finally {
        await server.close();
      }
    });
  }

  it('a clean run has an empty ledger and exits 0', async () => {
    const server = await startHttpOtlpServer();
    const reportPath = join(dir.path, 'clean.json');
    try {
      const { res, report } = await exportWithReport(server.endpoint, reportPath);
      assert.equal(res.code, 0, res.stderr);
      assert.deepEqual(report.losses, []);
      assert.deepEqual(report.exporters.default?.dropped, {});
      assert.doesNotMatch(res.stderr, /dropped|rejected|malformed/);
    } finally {
      await server.close();
    }
  });
});
