import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createExporter } from '../../../src/exporter/delivery/exporter.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { deliveryConfig, ScriptedTransport, SUCCESS, tempDir, until } from '../../support/delivery-fakes.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const CHILD = new URL('../../support/delivery-kill-child.ts', import.meta.url).pathname;
const COUNT = 40;

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

describe('persistent queue and kill -9', () => {
  it('delivers every acknowledged batch exactly once after the process was killed', async () => {
    const { dir: base, cleanup } = tempDir();
    try {
      const dir = join(base, 'queue');
      const port = await closedPort();
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, String(COUNT), String(port)], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
        child.on('exit', (code, signal) => resolve(signal ?? code)),
      );
      await until(
        () => stdout.includes('ready\n') || child.exitCode !== null,
        'the child to be ready',
        30_000,
      );
      assert.match(stdout, /ready/, `child failed: ${stderr}`);
      // Let it retry and write a little more, then kill it without warning.
      await until(
        () => readdirSync(dir).filter((n) => n.endsWith('.batch')).length > COUNT + 3,
        'late writes',
        30_000,
      );
      child.kill('SIGKILL');
      assert.equal(await exited, 'SIGKILL');

      const transport = new ScriptedTransport(() => SUCCESS);
      const counters = new Counters();
      const exporter = createExporter({
        name: 'revived',
        config: deliveryConfig({ name: 'revived', queue: { directory: dir } }),
        transport,
        split: (b) => [b],
        logger: silentLogger,
        counters,
      });
      await exporter.start();
      const replayed = counters.get('requests_replayed', { exporter: 'revived' });
      await until(() => transport.delivered.length === replayed, 'the replay');
      const report = await exporter.shutdown(5_000);

      const expected = Array.from({ length: COUNT }, (_, i) => `kill-${String(i).padStart(3, '0')}`);
      const killIds = transport.delivered.filter((id) => id.startsWith('kill-'));
      assert.deepEqual(killIds, expected, 'every acknowledged batch, once, in order');
      assert.equal(new Set(transport.delivered).size, transport.delivered.length, 'no batch delivered twice');
      assert.ok(
        transport.delivered.length > COUNT,
        'late batches committed before the kill are delivered too',
      );
      for (const [i, id] of expected.entries()) {
        const batch = transport.deliveredBatches.find((b) => b.id === id)!;
        assert.equal(batch.bytes.length, 200 + i);
        assert.equal(batch.samples, i);
      }
      assert.equal(counters.total('requests_dropped'), 0, 'a kill -9 leaves no corrupt file');
      assert.deepEqual(report.pendingOnDisk, { requests: 0, bytes: 0 });
      assert.deepEqual(
        readdirSync(dir).filter((n) => n.endsWith('.batch') || n.endsWith('.tmp')),
        [],
      );
    } finally {
      cleanup();
    }
  });
});
