import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { runCli, spawnCli, tempDir } from '../support/cli-harness.js';
import type { OtlpTestServer } from '../support/otlp-test-servers.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';

/** The capture's lines are at most ~94 KB: this maximum reads them all and refuses the long one. */
const MAX_LINE = '128KiB';
const captureLines = readFileSync(BUNDLED_CAPTURE_PATH, 'utf8')
  .split('\n')
  .filter((l) => l !== '');
/** A valid `-o json` line of 200 KB (a row with a very long stack). */
const longLine = JSON.stringify([
  { ...(JSON.parse(captureLines[0]!) as object[])[0], kern_stack: 'f; '.repeat(70_000) },
]);
const sumOf = (lines: readonly string[]): bigint =>
  lines.flatMap((l) => JSON.parse(l) as { samples: number }[]).reduce((a, r) => a + BigInt(r.samples), 0n);
const delivered = (server: OtlpTestServer): bigint =>
  totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body)));
/** Capture lines with the long line as line 3. */
const withLongLine = [...captureLines.slice(0, 2), longLine, ...captureLines.slice(2)];
const longLineByte = Buffer.byteLength(captureLines.slice(0, 2).join('\n')) + 1;

describe('an input line over --max-line-size', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  for (const from of ['stdin', 'file'] as const) {
    it(`${from}: is skipped and counted with its line and byte offset; the rest is read and exported (exit 3)`, async () => {
      const path = join(dir.path, 'with-long-line.jsonl');
      writeFileSync(path, withLongLine.join('\n') + '\n');
      const server = await startHttpOtlpServer();
      try {
        const res = await runCli(
          [
            'export',
            '--max-line-size',
            MAX_LINE,
            '--endpoint',
            server.endpoint,
            ...(from === 'file' ? ['--input', path] : []),
          ],
          from === 'stdin' ? { stdin: withLongLine.join('\n') + '\n' } : {},
        );
        assert.equal(res.code, 3, res.stderr);
        const where = from === 'stdin' ? 'stdin' : path;
        assert.ok(
          res.stderr.includes(
            `${where}:3 (byte ${longLineByte}): the line is longer than the maximum line size (131072 bytes)`,
          ),
          res.stderr,
        );
        assert.match(res.stderr, /1 malformed value\(s\) skipped/);
        assert.equal(delivered(server), sumOf(captureLines), 'every other line arrives');
      } finally {
        await server.close();
      }
    });
  }

  it('--max-line-size above the limit, or not a size, is a usage error (exit 2)', async () => {
    for (const bad of ['1GiB', 'huge']) {
      const res = await runCli(['export', '--max-line-size', bad, '--input', BUNDLED_CAPTURE_PATH]);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, /--max-line-size/);
    }
  });

  it('--follow --checkpoint: the checkpoint moves past the long line, a restart resumes after it', async () => {
    const path = join(dir.path, 'gadget-data.log');
    const checkpoint = join(dir.path, 'gadget-data.checkpoint');
    const server = await startHttpOtlpServer();
    const follow = async (total: bigint): Promise<{ code: number | null; stderr: string }> => {
      const child = spawnCli([
        'export',
        '--follow',
        '--input',
        path,
        '--checkpoint',
        checkpoint,
        '--max-line-size',
        MAX_LINE,
        '--endpoint',
        server.endpoint,
        '--set',
        'operator.otel-profiles.exporters.default.batch.interval=200ms',
      ]);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      const deadline = Date.now() + 30_000;
      while (delivered(server) < total) {
        if (Date.now() > deadline) assert.fail(`delivered ${delivered(server)} of ${total}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      await new Promise((r) => setTimeout(r, 300)); // let the checkpoint of the last batch be written
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      return { code, stderr };
    };
    try {
      const before = captureLines.slice(0, 4);
      writeFileSync(path, [...before.slice(0, 2), longLine, ...before.slice(2)].join('\n') + '\n');
      const first = await follow(sumOf(before));
      assert.equal(first.code, 3, first.stderr);
      assert.match(first.stderr, /:3 \(byte \d+\): the line is longer than the maximum line size/);
      const saved = JSON.parse(readFileSync(checkpoint, 'utf8')) as { offset: number };
      assert.ok(
        saved.offset > longLineByte + longLine.length,
        `checkpoint ${saved.offset} is past the long line`,
      );

      appendFileSync(path, captureLines.slice(4).join('\n') + '\n'); // while the exporter is down
      const second = await follow(sumOf(captureLines));
      assert.equal(second.code, 0, second.stderr);
      assert.match(second.stderr, /resuming at byte \d+ \(checkpoint\)/);
      assert.doesNotMatch(second.stderr, /maximum line size/, 'the long line is not read again');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(delivered(server), sumOf(captureLines), 'nothing sent twice, nothing lost');
    } finally {
      await server.close();
    }
  });
});
