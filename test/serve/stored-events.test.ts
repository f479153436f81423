import assert from 'node:assert/strict';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { MIN_EVENT_INTERVAL_MS, StoredEvents } from '../../src/serve/stored-events.js';

/** Notices as the client parsed them: id and data per `stored` event. */
function listen(url: string, lastEventId?: string) {
  const notices: { id: number; data: { to: number | null; samples: number } }[] = [];
  let buffer = '';
  const req = httpRequest(url, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = /^id: (\d+)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (id && data && /^event: stored$/m.test(block))
          notices.push({ id: Number(id), data: JSON.parse(data) as (typeof notices)[0]['data'] });
      }
    });
  });
  req.on('error', () => undefined);
  req.end();
  return { notices, close: () => req.destroy() };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe('live events (SSE)', () => {
  it('coalesces a burst of stored requests into one notice per interval, with the newest time and the sum', async () => {
    let newest = 1000;
    const events = new StoredEvents(() => Promise.resolve(newest));
    const server = createServer((req, res) => events.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const client = listen(url);
    try {
      await sleep(100);
      for (let i = 0; i < 10; i++) events.stored(5);
      await until(() => client.notices.length === 1, 'the first notice');
      assert.deepEqual(client.notices[0]?.data, { to: 1000, samples: 50 });
      newest = 2000;
      events.stored(7);
      events.stored(3);
      await until(() => client.notices.length === 2, 'the second notice');
      await sleep(MIN_EVENT_INTERVAL_MS / 2);
      assert.equal(client.notices.length, 2, 'one notice for both requests');
      const [first, second] = client.notices as [(typeof client.notices)[0], (typeof client.notices)[0]];
      assert.deepEqual(second.data, { to: 2000, samples: 10 });
      // Ids are the emission times in ms (increasing): the second came a whole interval after the first.
      assert.ok(second.id - first.id >= MIN_EVENT_INTERVAL_MS - 5, `${second.id - first.id} ms apart`);

      // A client that saw an older notice gets the latest at once; one that is up to date waits.
      const behind = listen(url, String(first.id));
      const current = listen(url, String(second.id));
      await until(() => behind.notices.length === 1, 'the resumed notice');
      assert.deepEqual(
        behind.notices.map((n) => n.id),
        [second.id],
      );
      assert.equal(current.notices.length, 0);
      behind.close();
      current.close();
    } finally {
      client.close();
      events.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
