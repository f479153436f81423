import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { QueueDrop } from '../../../src/exporter/queue/export-queue.js';
import { createMemoryQueue } from '../../../src/exporter/queue/memory-queue.js';
import { fakeBatch } from '../../support/delivery-fakes.js';
import { forceGc } from '../../support/force-gc.js';

async function takeAll(queue: ReturnType<typeof createMemoryQueue>): Promise<string[]> {
  const ids: string[] = [];
  for (let t = await queue.take(); t; t = await queue.take()) ids.push(t.entry.id);
  return ids;
}

describe('memory queue', () => {
  it('drops the oldest batches beyond max requests and reports each with its counts', async () => {
    const drops: QueueDrop[] = [];
    const queue = createMemoryQueue({
      limits: { maxBytes: 1 << 20, maxRequests: 3 },
      onDrop: (d) => drops.push(d),
    });
    for (let i = 0; i < 5; i++)
      await queue.enqueue(fakeBatch(`b${i}`, { profiles: i + 1, samples: 10 * (i + 1) }));
    assert.deepEqual(
      drops.map((d) => [d.reason, d.id, d.profiles, d.samples, d.bytes]),
      [
        ['queue_full', 'b0', 1, 10, 100],
        ['queue_full', 'b1', 2, 20, 100],
      ],
    );
    assert.deepEqual(queue.pending(), { requests: 3, bytes: 300 });
    assert.deepEqual(await takeAll(queue), ['b2', 'b3', 'b4']);
  });

  it('bounds bytes, excludes in-flight batches from the bounds and drops a batch larger than the bound', async () => {
    const drops: string[] = [];
    const queue = createMemoryQueue({
      limits: { maxBytes: 250, maxRequests: 100 },
      onDrop: (d) => drops.push(d.id!),
    });
    await queue.enqueue(fakeBatch('a'));
    const inFlight = await queue.take();
    assert.equal(inFlight?.entry.id, 'a');
    await queue.enqueue(fakeBatch('b'));
    await queue.enqueue(fakeBatch('c'));
    assert.deepEqual(drops, []);
    await queue.enqueue(fakeBatch('d'));
    assert.deepEqual(drops, ['b']);
    await queue.enqueue(fakeBatch('huge', { size: 251 }));
    // Everything older goes first, then the oversize batch itself.
    assert.deepEqual(drops, ['b', 'c', 'd', 'huge']);
    assert.deepEqual(queue.inFlight(), { requests: 1, bytes: 100 });
    await queue.enqueue(fakeBatch('e'));
    const left = await queue.close();
    assert.deepEqual(
      left.map((e) => e.id),
      ['e', 'a'],
    );
  });

  it('keeps order across many enqueues and takes (head compaction)', async () => {
    const queue = createMemoryQueue({
      limits: { maxBytes: 1 << 30, maxRequests: 10_000 },
      onDrop: () => assert.fail('no drop expected'),
    });
    const taken: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      await queue.enqueue(fakeBatch(`x${i}`, { size: 8 }));
      if (i % 3 === 0) {
        const t = await queue.take();
        taken.push(t!.entry.id);
        await queue.complete(t!.entry);
      }
    }
    taken.push(...(await takeAll(queue)));
    assert.deepEqual(
      taken,
      Array.from({ length: 5_000 }, (_, i) => `x${i}`),
    );
    assert.deepEqual(queue.pending(), { requests: 0, bytes: 0 });
  });

  it('lets go of a batch once it is taken and completed, or dropped', async () => {
    const queue = createMemoryQueue({
      limits: { maxBytes: 1 << 20, maxRequests: 1 },
      onDrop: () => undefined,
    });
    let delivered: ReturnType<typeof fakeBatch> | undefined = fakeBatch('delivered');
    let dropped: ReturnType<typeof fakeBatch> | undefined = fakeBatch('dropped');
    const deliveredRef = new WeakRef(delivered);
    const droppedRef = new WeakRef(dropped);
    await queue.enqueue(delivered);
    const entry = (await queue.take())?.entry;
    await queue.complete(entry!);
    await queue.enqueue(dropped);
    await queue.enqueue(fakeBatch('newest')); // maxRequests 1: 'dropped' goes
    delivered = undefined;
    dropped = undefined;
    await forceGc();
    assert.equal(deliveredRef.deref(), undefined, 'a delivered batch is still referenced by the queue');
    assert.equal(droppedRef.deref(), undefined, 'a dropped batch is still referenced by the queue');
    assert.deepEqual(await takeAll(queue), ['newest']);
  });
});
