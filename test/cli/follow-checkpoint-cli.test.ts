import assert from 'node:assert/strict';
import { once } from 'node:events';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { spawnCli, tempDir } from '../support/cli-harness.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import type { OtlpTestServer as HttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';

const captureLines = readFileSync(BUNDLED_CAPTURE_PATH, 'utf8')
  .split('\n')
  .filter((l) => l !== '');
const half = Math.floor(captureLines.length / 2);
const sumOf = (lines: readonly string[]): bigint =>
  lines.flatMap((l) => JSON.parse(l) as { samples: number }[]).reduce((a, r) => a + BigInt(r.samples), 0n);
const delivered = (server: HttpOtlpServer): bigint =>
  totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body)));

async function untilDelivered(server: HttpOtlpServer, total: bigint, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (delivered(server) < total) {
    if (Date.now() > deadline) assert.fail(`delivered ${delivered(server)} of ${total}\n${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One exporter run following `path` until `total` samples arrived, then SIGTERM. */
async function followRun(
  path: string,
  checkpoint: string,
  server: HttpOtlpServer,
  total: bigint,
): Promise<string> {
  const child = spawnCli([
    'export',
    '--follow',
    '--input',
    path,
    '--checkpoint',
    checkpoint,
    '--endpoint',
    server.endpoint,
    '--protocol',
    'http/protobuf',
    '--set',
    'operator.otel-profiles.exporters.default.batch.interval=200ms',
  ]);
  let stderr = '';
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  await untilDelivered(server, total, () => stderr);
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0, stderr);
  return stderr;
}

describe('export --follow --checkpoint (a real process, stopped and restarted)', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('a restarted exporter sends only what was appended meanwhile: every sample exactly once', async () => {
    const path = join(dir.path, 'gadget-data.log');
    const checkpoint = join(dir.path, 'gadget-data.checkpoint');
    const server = await startHttpOtlpServer();
    try {
      writeFileSync(path, captureLines.slice(0, half).join('\n') + '\n');
      await followRun(path, checkpoint, server, sumOf(captureLines.slice(0, half)));

      appendFileSync(path, captureLines.slice(half).join('\n') + '\n'); // while the exporter is down
      const stderr = await followRun(path, checkpoint, server, sumOf(captureLines));
      assert.match(stderr, /resuming at byte \d+ \(checkpoint\)/);
      // Give a duplicate (were there one) time to arrive before counting.
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(delivered(server), sumOf(captureLines), 'nothing sent twice, nothing lost');
    } finally {
      await server.close();
    }
  });

  it('is refused without --follow, naming the fix', async () => {
    const child = spawnCli(['export', '--input', BUNDLED_CAPTURE_PATH, '--checkpoint', join(dir.path, 'c')]);
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 2);
    assert.match(stderr, /--checkpoint needs --follow --input FILE/);
  });
});
