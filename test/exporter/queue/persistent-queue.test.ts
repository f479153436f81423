import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createExporter } from '../../../src/exporter/delivery/exporter.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import type { QueueDrop } from '../../../src/exporter/queue/export-queue.js';
import { createPersistentQueue } from '../../../src/exporter/queue/persistent-queue.js';
import { decodeQueueRecord } from '../../../src/exporter/queue/queue-file-format.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { ScriptedAnswer } from '../../support/delivery-fakes.js';
import {
  deliveryConfig,
  fakeBatch,
  recordingLogger,
  ScriptedTransport,
  SUCCESS,
  tempDir,
  unavailable,
  until,
} from '../../support/delivery-fakes.js';

const cleanups: (() => void)[] = [];
after(() => cleanups.forEach((c) => c()));

function queueDir(): string {
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  return join(dir, 'queue');
}

function persistentLane(
  directory: string,
  script: (batch: ExportBatch, attempt: number) => ScriptedAnswer,
  maxRequests = 1_000,
) {
  const transport = new ScriptedTransport(script);
  const counters = new Counters();
  const { logger, lines } = recordingLogger();
  const exporter = createExporter({
    name: 'disk',
    config: deliveryConfig({
      name: 'disk',
      retry: { initialIntervalMs: 5, maxIntervalMs: 20 },
      queue: { directory, maxRequests },
    }),
    transport,
    split: (b) => [b],
    logger,
    counters,
  });
  return { exporter, transport, counters, lines };
}

const batchFiles = (dir: string): string[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.batch'))
    .sort();

const corrupt = { exporter: 'disk', reason: 'corrupt_file' };

describe('persistent queue', () => {
  it('has the batch in its own checksummed file before enqueue resolves', async () => {
    const dir = queueDir();
    const { exporter } = persistentLane(dir, () => 'hang');
    await exporter.start();
    const batch = fakeBatch('p1', { profiles: 3, samples: 33 });
    await exporter.enqueue(batch);
    const files = batchFiles(dir);
    assert.equal(files.length, 1);
    const decoded = decodeQueueRecord(readFileSync(join(dir, files[0]!)));
    assert.ok(decoded.ok);
    assert.equal(decoded.record.id, 'p1');
    assert.equal(decoded.record.profiles, 3);
    assert.equal(decoded.record.samples, 33);
    assert.deepEqual([...decoded.record.payload], [...batch.bytes]);
    assert.ok(!readdirSync(dir).some((n) => n.endsWith('.tmp')));

    const report = await exporter.shutdown(0);
    assert.deepEqual(report.pendingOnDisk, { requests: 1, bytes: 100 });
    assert.deepEqual(report.dropped, {});
    assert.equal(report.pendingInMemoryDropped, 0);
    assert.equal(batchFiles(dir).length, 1);
    assert.ok(!existsSync(join(dir, 'queue.lock')), 'the lock is released at shutdown');
  });

  it('survives a restart: a new exporter on the directory delivers everything, in order, then deletes the files', async () => {
    const dir = queueDir();
    const down = persistentLane(dir, () => unavailable());
    await down.exporter.start();
    for (let i = 0; i < 5; i++)
      await down.exporter.enqueue(fakeBatch(`r${i}`, { profiles: i + 1, samples: 10 * i }));
    await until(() => down.transport.calls.length >= 2, 'a retry');
    const first = await down.exporter.shutdown(30);
    assert.deepEqual(first.pendingOnDisk, { requests: 5, bytes: 500 });
    assert.deepEqual(first.dropped, {});

    const up = persistentLane(dir, () => SUCCESS);
    await up.exporter.start();
    await until(() => up.transport.delivered.length === 5, 'the replay');
    assert.deepEqual(up.transport.delivered, ['r0', 'r1', 'r2', 'r3', 'r4']);
    const replayed = up.transport.deliveredBatches[3]!;
    assert.equal(replayed.profiles, 4);
    assert.equal(replayed.samples, 30);
    // Only bytes came back from disk; the model is decoded from them.
    assert.equal(replayed.request().dictionary.stringTable[1], 'r3');
    assert.equal(up.counters.get('requests_replayed', { exporter: 'disk' }), 5);
    const report = await up.exporter.shutdown(1_000);
    assert.deepEqual(report.delivered, { requests: 5, profiles: 15, samples: 100 });
    assert.deepEqual(report.pendingOnDisk, { requests: 0, bytes: 0 });
    assert.deepEqual(batchFiles(dir), []);
  });

  it('reports, counts and moves aside torn and corrupt files, and delivers the rest', async () => {
    const dir = queueDir();
    const down = persistentLane(dir, () => 'hang');
    await down.exporter.start();
    for (let i = 0; i < 5; i++)
      await down.exporter.enqueue(fakeBatch(`c${i}`, { profiles: 1 + i, samples: 100 + i }));
    await down.exporter.shutdown(0);
    const files = batchFiles(dir);
    assert.equal(files.length, 5);
    const path = (i: number) => join(dir, files[i]!);
    truncateSync(path(1), readFileSync(path(1)).length - 7); // torn payload
    const flipped = readFileSync(path(2));
    flipped[flipped.length - 1]! ^= 0x10; // one bit flipped in the payload
    writeFileSync(path(2), flipped);
    truncateSync(path(3), 10); // torn header
    writeFileSync(join(dir, '0000000000000099.batch.tmp'), 'half a write');

    const up = persistentLane(dir, () => SUCCESS);
    await up.exporter.start();
    await until(() => up.transport.delivered.length === 2, 'the intact batches');
    assert.deepEqual(up.transport.delivered, ['c0', 'c4']);
    assert.equal(up.counters.get('requests_dropped', corrupt), 3);
    // The torn header tells nothing; the other two headers still carry their counts.
    assert.equal(up.counters.get('profiles_dropped', corrupt), 2 + 3);
    assert.equal(up.counters.get('samples_dropped', corrupt), 101 + 102);
    const warns = up.lines.filter((l) => / WARN /.test(l));
    const warnFor = (i: number) => warns.find((l) => l.includes(path(i))) ?? '';
    assert.match(
      warnFor(1),
      /truncated: payload has 93 of 100 bytes.*moved aside to .*\.batch\.corrupt.*reason=corrupt_file/,
    );
    assert.match(warnFor(2), /payload checksum mismatch/);
    assert.match(warnFor(3), /torn header: 10 bytes/);
    assert.ok(warns.some((l) => /incomplete write.*0000000000000099\.batch\.tmp/.test(l)));
    for (const i of [1, 2, 3]) assert.ok(existsSync(`${path(i)}.corrupt`), `${files[i]} moved aside`);
    const report = await up.exporter.shutdown(1_000);
    assert.deepEqual(report.dropped, { corrupt_file: { requests: 3, profiles: 5, samples: 203 } });
    assert.deepEqual(batchFiles(dir), []);
    assert.ok(!existsSync(join(dir, '0000000000000099.batch.tmp')));

    // Moved-aside files are not replayed again.
    const again = persistentLane(dir, () => SUCCESS);
    await again.exporter.start();
    const last = await again.exporter.shutdown(100);
    assert.equal(again.counters.total('requests_dropped'), 0);
    assert.equal(last.delivered.requests, 0);
  });

  it('drops the oldest files when the queue is full, counts them, and reports the rest as pending', async () => {
    const dir = queueDir();
    const { exporter, transport, counters } = persistentLane(dir, () => 'hang', 2);
    await exporter.start();
    await exporter.enqueue(fakeBatch('f0'));
    await until(() => transport.calls.length === 1, 'f0 in flight');
    for (let i = 1; i < 4; i++) await exporter.enqueue(fakeBatch(`f${i}`, { profiles: 1, samples: 5 }));
    assert.equal(counters.get('requests_dropped', { exporter: 'disk', reason: 'queue_full' }), 1);
    assert.equal(counters.get('samples_dropped', { exporter: 'disk', reason: 'queue_full' }), 5);
    const ids = batchFiles(dir).map((n) => {
      const d = decodeQueueRecord(readFileSync(join(dir, n)));
      return d.ok ? d.record.id : '?';
    });
    assert.deepEqual(ids, ['f0', 'f2', 'f3']);
    const report = await exporter.shutdown(0);
    assert.deepEqual(report.pendingOnDisk, { requests: 3, bytes: 300 });
    assert.deepEqual(report.dropped, { queue_full: { requests: 1, profiles: 1, samples: 5 } });
  });

  it('refuses a directory another exporter of this process already uses', async () => {
    const dir = queueDir();
    const one = persistentLane(dir, () => SUCCESS);
    await one.exporter.start();
    const two = persistentLane(dir, () => SUCCESS);
    await assert.rejects(
      two.exporter.start(),
      /already used by another exporter of this process; give each exporter its own queue\.directory/,
    );
    await one.exporter.shutdown(0);
  });

  it('verifies files read back at send time and enforces lowered bounds on replay', async () => {
    const dir = queueDir();
    const drops: QueueDrop[] = [];
    const options = {
      directory: dir,
      logger: silentLogger,
      memoryCacheBytes: 0,
      onDrop: (d: QueueDrop) => drops.push(d),
    };
    const queue = createPersistentQueue({ ...options, limits: { maxBytes: 1 << 20, maxRequests: 10 } });
    await queue.open();
    for (let i = 0; i < 4; i++) await queue.enqueue(fakeBatch(`v${i}`, { samples: i }));
    const first = batchFiles(dir)[0]!;
    const data = readFileSync(join(dir, first));
    data[data.length - 2]! ^= 0xff;
    writeFileSync(join(dir, first), data);
    const taken = await queue.take();
    assert.equal(taken?.batch.id, 'v1');
    assert.equal(taken?.batch.request().dictionary.stringTable[1], 'v1');
    assert.deepEqual(
      drops.map((d) => [d.reason, d.id, d.samples]),
      [['corrupt_file', 'v0', 0]],
    );
    assert.match(drops[0]!.problem!, /payload checksum mismatch/);
    await queue.complete(taken.entry);
    assert.deepEqual(await queue.close().then((l) => l.map((e) => e.id)), ['v2', 'v3']);

    drops.length = 0;
    const smaller = createPersistentQueue({ ...options, limits: { maxBytes: 1 << 20, maxRequests: 1 } });
    assert.deepEqual(await smaller.open(), { requests: 2, bytes: 200 });
    assert.deepEqual(
      drops.map((d) => [d.reason, d.id]),
      [['queue_full', 'v2']],
    );
    assert.deepEqual(await smaller.close().then((l) => l.map((e) => e.id)), ['v3']);
    assert.equal(batchFiles(dir).length, 1);
  });
});

describe('persistent queue: the directory is checked at start, and only its user may read it', () => {
  /** Start-up must answer, not hang: a generous bound that only a hang exceeds. */
  const HANG_MS = 20_000;
  const startOf = async (directory: string): Promise<Error> => {
    const { exporter } = persistentLane(directory, () => SUCCESS);
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`start-up on ${directory} hung`)), HANG_MS);
    });
    try {
      await Promise.race([exporter.start(), hung]);
    } catch (err) {
      return err as Error;
    } finally {
      clearTimeout(timer);
    }
    await exporter.shutdown(0);
    assert.fail(`start-up on ${directory} succeeded`);
  };
  const assertUnusable = (err: Error, directory: string, why: RegExp): void => {
    assert.equal(err.name, 'ConfigError', `a configuration error (exit 2): ${err.message}`);
    assert.ok(err.message.includes(directory), err.message);
    assert.match(err.message, /queue\.directory/);
    assert.match(err.message, why);
  };

  it('a directory that cannot be created under /proc fails fast instead of hanging', async () => {
    const directory = `/proc/igop-queue-${process.pid}/sub`;
    assertUnusable(await startOf(directory), directory, /cannot create \/proc\/igop-queue-\d+/);
  });

  it('an existing directory where no file can be created (/proc) is refused', async () => {
    assertUnusable(await startOf('/proc'), '/proc', /files cannot be created in it/);
  });

  it('a path that is a file, or under a file, is refused', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const file = join(dir, 'plain-file');
    writeFileSync(file, 'x');
    assertUnusable(await startOf(file), file, /is not a directory/);
    assertUnusable(await startOf(join(file, 'queue')), join(file, 'queue'), /is not a directory/);
  });

  it('creates missing directories 0700 and queue files 0600: they hold profiles', async () => {
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const directory = join(dir, 'a', 'b', 'queue');
    const { exporter } = persistentLane(directory, () => 'hang');
    await exporter.start();
    await exporter.enqueue(fakeBatch('p1', { profiles: 1, samples: 1 }));
    for (const d of [join(dir, 'a'), join(dir, 'a', 'b'), directory])
      assert.equal(statSync(d).mode & 0o777, 0o700, `mode of ${d}`);
    const files = readdirSync(directory);
    assert.ok(files.includes('queue.lock') && files.some((f) => f.endsWith('.batch')), files.join(', '));
    for (const f of files) assert.equal(statSync(join(directory, f)).mode & 0o777, 0o600, `mode of ${f}`);
    await exporter.shutdown(0);
  });
});
