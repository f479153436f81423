import assert from 'node:assert/strict';
import { appendFileSync, closeSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RowSource } from '../../../src/rows/row-batch.js';
import { harness, tempDir, waitFor } from '../../support/json-input-fixtures.js';
import { getField } from '../../../src/rows/gadget-row.js';

const POLL_MS = 20;
const line = (id: number, pad = 0): string =>
  JSON.stringify([{ id, samples: 1, pad: 'x'.repeat(pad) }]) + '\n';

function consume(source: RowSource): { ids: number[]; done: Promise<void> } {
  const ids: number[] = [];
  const done = (async () => {
    for await (const b of source.batches()) for (const r of b.rows) ids.push(getField(r, 'id') as number);
  })();
  return { ids, done };
}

describe('JSON row source: followed file', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('follows a file across rename rotation without losing or repeating a line', async () => {
    const path = join(tmp.dir, 'rename.log');
    writeFileSync(path, line(1) + line(2) + line(3));
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS });
    const c = consume(h.source);
    await waitFor(() => c.ids.length === 3, 5000, 'lines 1-3');

    const writer = openSync(path, 'a');
    writeSync(writer, line(4));
    renameSync(path, `${path}.1`);
    writeSync(writer, line(5)); // the writer finishes its last line in the renamed file
    closeSync(writer);
    writeFileSync(path, line(6));
    await waitFor(() => c.ids.length >= 6, 5000, 'lines 4-6');
    appendFileSync(path, line(7));
    await waitFor(() => c.ids.length >= 7, 5000, 'line 7');

    // A second rotation, with the new file created before the old one was read to its end.
    appendFileSync(path, line(8));
    renameSync(path, `${path}.2`);
    writeFileSync(path, line(9));
    await waitFor(() => c.ids.length >= 9, 5000, 'lines 8-9');

    await h.source.stop();
    await c.done;
    assert.deepEqual(c.ids, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.equal(h.counters.get('json_values_malformed'), 0);
  });

  it('starts over after truncation (copytruncate) without repeating old lines', async () => {
    const path = join(tmp.dir, 'truncate.log');
    writeFileSync(path, line(1, 200) + line(2, 200));
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS });
    const c = consume(h.source);
    await waitFor(() => c.ids.length === 2, 5000, 'lines 1-2');
    writeFileSync(path, line(3) + line(4)); // truncates, then writes less than was there
    await waitFor(() => c.ids.length >= 4, 5000, 'lines 3-4');
    appendFileSync(path, line(5));
    await waitFor(() => c.ids.length >= 5, 5000, 'line 5');
    await h.source.stop();
    await c.done;
    assert.deepEqual(c.ids, [1, 2, 3, 4, 5]);
  });

  it('waits for the file to appear and joins a line written in two parts', async () => {
    const path = join(tmp.dir, 'later.log');
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS });
    const c = consume(h.source);
    await waitFor(
      () => h.logger.lines.some((l) => l.message.includes('waiting for the file')),
      5000,
      'the wait notice',
    );
    const text = line(1);
    writeFileSync(path, text.slice(0, 10));
    await new Promise((r) => setTimeout(r, POLL_MS * 4));
    appendFileSync(path, text.slice(10) + line(2));
    await waitFor(() => c.ids.length >= 2, 5000, 'lines 1-2');
    await h.source.stop();
    await c.done;
    assert.deepEqual(c.ids, [1, 2]);
    assert.equal(h.counters.get('json_values_malformed'), 0);
  });

  it('reads what was appended before stop() and then ends', async () => {
    const path = join(tmp.dir, 'stop.log');
    writeFileSync(path, line(1));
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: 60_000 });
    const c = consume(h.source);
    await waitFor(() => c.ids.length === 1, 5000, 'line 1');
    appendFileSync(path, line(2)); // the next poll is a minute away; stop() reads once more
    await h.source.stop();
    await c.done;
    assert.deepEqual(c.ids, [1, 2]);
  });
});
