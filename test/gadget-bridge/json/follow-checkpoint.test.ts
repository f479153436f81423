import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readFollowCheckpoint } from '../../../src/gadget-bridge/json/follow-checkpoint.js';
import { createJsonFramer } from '../../../src/gadget-bridge/json/json-framer.js';
import type { RowSource } from '../../../src/rows/row-batch.js';
import { harness, tempDir, waitFor } from '../../support/json-input-fixtures.js';
import { getField } from '../../../src/rows/gadget-row.js';

const POLL_MS = 20;
const line = (id: number): string => JSON.stringify([{ id, samples: 1 }]) + '\n';
const lines = (from: number, to: number): string => {
  let out = '';
  for (let id = from; id <= to; id++) out += line(id);
  return out;
};

/** Reads batches; acknowledges each (as the session does once it is queued) unless told not to. */
function consume(source: RowSource, acknowledgeUpTo = Infinity): { ids: number[]; done: Promise<void> } {
  const ids: number[] = [];
  const done = (async () => {
    for await (const b of source.batches()) {
      for (const r of b.rows) ids.push(getField(r, 'id') as number);
      if (ids.length <= acknowledgeUpTo) b.acknowledge?.();
    }
  })();
  return { ids, done };
}

async function followOnce(
  path: string,
  checkpoint: string,
  expected: number,
  acknowledgeUpTo = Infinity,
): Promise<{ ids: number[]; warnings: string[]; infos: string[] }> {
  const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS, checkpoint });
  const c = consume(h.source, acknowledgeUpTo);
  await waitFor(() => c.ids.length >= expected, 5000, `${expected} rows`);
  await h.source.stop();
  await c.done;
  const of = (level: string): string[] =>
    h.logger.lines.filter((l) => l.level === level).map((l) => l.message);
  return { ids: c.ids, warnings: of('warn'), infos: of('info') };
}

describe('framer: resume offsets', () => {
  it('every completed value says where reading may resume, counting from the start byte', () => {
    const text = line(1) + '[\n  {"id": 2}\n]\n' + line(3);
    const framer = createJsonFramer({ startByte: 100 });
    const frames = [
      ...framer.push(Buffer.from(text.slice(0, 7))),
      ...framer.push(Buffer.from(text.slice(7))),
    ];
    const ends = frames.filter((f) => f.kind === 'array-end' || f.kind === 'text').map((f) => f.end);
    const first = Buffer.byteLength(line(1));
    const pretty = Buffer.byteLength('[\n  {"id": 2}\n]\n');
    assert.deepEqual(ends, [100 + first, 100 + first + pretty, 100 + Buffer.byteLength(text)]);
  });

  it('a last line without a newline ends at the end of input', () => {
    const framer = createJsonFramer();
    assert.deepEqual(framer.push(Buffer.from('{"type":"x"}')), []);
    const [frame] = framer.end();
    assert.equal(frame?.kind === 'text' && frame.end, 12);
  });
});

describe('JSON row source: followed file with a checkpoint', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('a restart resumes after the last acknowledged emission: nothing is read twice or lost', async () => {
    const path = join(tmp.dir, 'resume.log');
    const checkpoint = join(tmp.dir, 'state', 'resume.checkpoint'); // its directory does not exist yet
    writeFileSync(path, lines(1, 3));
    const first = await followOnce(path, checkpoint, 3);
    assert.deepEqual(first.ids, [1, 2, 3]);
    const saved = readFollowCheckpoint(checkpoint);
    assert.equal(saved?.offset, Buffer.byteLength(lines(1, 3)));
    assert.equal(saved?.ino, statSync(path).ino);

    appendFileSync(path, lines(4, 5));
    const second = await followOnce(path, checkpoint, 2);
    assert.deepEqual(second.ids, [4, 5]);
    assert.ok(second.infos.some((m) => m.includes(`resuming at byte ${saved?.offset}`)));
  });

  it('resumes after logs envelope lines (split around their data array) at their exact ends', async () => {
    const path = join(tmp.dir, 'envelopes.log');
    const checkpoint = join(tmp.dir, 'envelopes.checkpoint');
    const envelope = (id: number): string =>
      `{"type":"gadget-data","seq":${id},"datasource":"samples","timestamp":"2025-08-21T10:00:0${id}Z","data":[{"id":${id},"samples":1,"s":"ü€"}]}\r\n`;
    writeFileSync(path, envelope(1) + envelope(2));
    const first = await followOnce(path, checkpoint, 2);
    assert.deepEqual(first.ids, [1, 2]);
    assert.equal(readFollowCheckpoint(checkpoint)?.offset, Buffer.byteLength(envelope(1) + envelope(2)));
    appendFileSync(path, envelope(3));
    const second = await followOnce(path, checkpoint, 1);
    assert.deepEqual(second.ids, [3]);
  });

  it('what was never acknowledged is read again (at least once)', async () => {
    const path = join(tmp.dir, 'unacked.log');
    const checkpoint = join(tmp.dir, 'unacked.checkpoint');
    writeFileSync(path, lines(1, 4));
    const first = await followOnce(path, checkpoint, 4, 2); // rows 3 and 4 never reached a queue
    assert.deepEqual(first.ids, [1, 2, 3, 4]);
    const second = await followOnce(path, checkpoint, 2);
    assert.deepEqual(second.ids, [3, 4]);
  });

  it('finds the checkpointed file after rotation and reads its rest before the new file', async () => {
    const path = join(tmp.dir, 'rotated.log');
    const checkpoint = join(tmp.dir, 'rotated.checkpoint');
    writeFileSync(path, lines(1, 2));
    await followOnce(path, checkpoint, 2);
    appendFileSync(path, lines(3, 4)); // written while the exporter was down
    renameSync(path, join(tmp.dir, 'rotated-2026-12-01T20-00-00.000.log'));
    writeFileSync(path, lines(5, 6));
    const second = await followOnce(path, checkpoint, 4);
    assert.deepEqual(second.ids, [3, 4, 5, 6]);
    assert.ok(second.infos.some((m) => m.includes('rotated since the checkpoint')));
    // The checkpoint now points into the new file.
    assert.equal(readFollowCheckpoint(checkpoint)?.ino, statSync(path).ino);
    assert.equal(readFollowCheckpoint(checkpoint)?.offset, Buffer.byteLength(lines(5, 6)));
  });

  it('a file rewritten in place (same size or larger, other content) is read from the start, with a warning', async () => {
    const path = join(tmp.dir, 'rewritten.log');
    const checkpoint = join(tmp.dir, 'rewritten.checkpoint');
    writeFileSync(path, lines(1, 2));
    await followOnce(path, checkpoint, 2);
    writeFileSync(path, lines(7, 9)); // same inode, different first bytes
    const second = await followOnce(path, checkpoint, 3);
    assert.deepEqual(second.ids, [7, 8, 9]);
    assert.ok(second.warnings.some((m) => m.includes('no longer there or was rewritten')));
  });

  it('a file truncated below the checkpoint is read from the start', async () => {
    const path = join(tmp.dir, 'truncated.log');
    const checkpoint = join(tmp.dir, 'truncated.checkpoint');
    writeFileSync(path, lines(1, 3));
    await followOnce(path, checkpoint, 3);
    writeFileSync(path, line(1)); // copytruncate, then one line with the same start
    const second = await followOnce(path, checkpoint, 1);
    assert.deepEqual(second.ids, [1]);
  });

  it('a checkpoint of another path is not used and is replaced', async () => {
    const a = join(tmp.dir, 'a.log');
    const b = join(tmp.dir, 'b.log');
    const checkpoint = join(tmp.dir, 'shared.checkpoint');
    writeFileSync(a, lines(1, 2));
    writeFileSync(b, lines(3, 4));
    await followOnce(a, checkpoint, 2);
    const second = await followOnce(b, checkpoint, 2);
    assert.deepEqual(second.ids, [3, 4]);
    assert.ok(second.warnings.some((m) => m.includes(`the checkpoint is for ${a}`)));
    assert.equal(readFollowCheckpoint(checkpoint)?.path, b);
  });

  it('a corrupt checkpoint fails the run with the file and the fix, and is not overwritten', async () => {
    const path = join(tmp.dir, 'corrupt.log');
    const checkpoint = join(tmp.dir, 'corrupt.checkpoint');
    writeFileSync(path, lines(1, 1));
    writeFileSync(checkpoint, '{"version":1,"path":');
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS, checkpoint });
    await assert.rejects(
      async () => {
        for await (const _ of h.source.batches()) assert.fail('no batch expected');
      },
      (err: Error) =>
        err.message.includes(`--checkpoint ${checkpoint}`) && err.message.includes('delete it to read'),
    );
    assert.equal(readFileSync(checkpoint, 'utf8'), '{"version":1,"path":');
    rmSync(checkpoint);
  });

  it('is refused for input that is not a followed file', () => {
    assert.throws(() => harness({ checkpoint: join(tmp.dir, 'x.checkpoint') }), /only for a followed file/);
  });
});

describe('JSON row source: a checkpoint that cannot be written', () => {
  const tmp = tempDir();
  after(tmp.cleanup);

  it('is warned about once and counted; reading goes on', async () => {
    const path = join(tmp.dir, 'unwritable.log');
    writeFileSync(path, lines(1, 2));
    const checkpoint = join(tmp.dir, 'x.checkpoint');
    mkdirSync(`${checkpoint}.tmp`); // the atomic write's temporary file cannot be created
    const h = harness({ input: { kind: 'file', path, follow: true }, pollIntervalMs: POLL_MS, checkpoint });
    const c = consume(h.source);
    await waitFor(() => c.ids.length >= 2, 5000, '2 rows');
    appendFileSync(path, line(3));
    await waitFor(() => c.ids.length >= 3, 5000, 'row 3');
    await h.source.stop();
    await c.done;
    assert.deepEqual(c.ids, [1, 2, 3]);
    assert.ok(h.counters.get('checkpoint_write_failures') >= 2);
    const warnings = h.logger.lines.filter((l) => l.message.includes('cannot write'));
    assert.equal(warnings.length, 1, 'one warning, then only counted');
  });
});
