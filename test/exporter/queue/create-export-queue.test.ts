import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createExportQueue } from '../../../src/exporter/queue/create-export-queue.js';
import type { QueueDrop } from '../../../src/exporter/queue/export-queue.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { fakeBatch, tempDir } from '../../support/delivery-fakes.js';

const { dir, cleanup } = tempDir();
after(cleanup);

describe('createExportQueue', () => {
  it('keeps the queue in memory without queue.directory, bounded by the queue keys', async () => {
    const drops: QueueDrop[] = [];
    const queue = createExportQueue(
      { maxRequests: 1, maxBytes: 1 << 20, concurrency: 1 },
      { onDrop: (d) => drops.push(d), logger: silentLogger },
    );
    assert.equal(queue.kind, 'memory');
    await queue.open();
    await queue.enqueue(fakeBatch('a'));
    await queue.enqueue(fakeBatch('b'));
    assert.deepEqual(
      drops.map((d) => [d.reason, d.id]),
      [['queue_full', 'a']],
    );
    await queue.close();
  });

  it('stores the queue in queue.directory when it is set', async () => {
    const directory = join(dir, 'queue');
    const queue = createExportQueue(
      { maxRequests: 10, maxBytes: 1 << 20, concurrency: 1, directory },
      { onDrop: () => assert.fail('no drop expected'), logger: silentLogger },
    );
    assert.equal(queue.kind, 'persistent');
    assert.equal(queue.description, directory);
    await queue.open();
    await queue.enqueue(fakeBatch('kept'));
    assert.deepEqual(
      (await queue.close()).map((e) => [e.id, e.file?.startsWith(directory)]),
      [['kept', true]],
    );
  });
});
