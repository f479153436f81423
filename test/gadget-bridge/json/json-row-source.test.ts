import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gadgetRows, getField } from '../../../src/rows/gadget-row.js';
import type { FieldRecord, GadgetRow } from '../../../src/rows/gadget-row.js';
import { parseLosslessJson } from '../../../src/gadget-bridge/json/lossless-json.js';
import { makeExact } from '../../../src/rows/rounded-integers.js';
import type { RowBatch } from '../../../src/rows/row-batch.js';
import type { JsonSpecHint } from '../../../src/gadget-bridge/json/json-row-source.js';
import {
  collect,
  exampleLines,
  feed,
  harness,
  prettyArray,
  testSpec,
  waitFor,
} from '../../support/json-input-fixtures.js';

const lines = exampleLines();

/**
 * The rows as their readers see them: whole texts (envelopes, pretty arrays) are parsed with
 * exactness deferred to the first read (rounded-integers.ts), so the comparison with the exact
 * parse makes them exact first, as `fieldAccessor` does.
 */
function exactRows(rows: readonly GadgetRow[]): readonly GadgetRow[] {
  for (const row of rows) makeExact(row);
  return rows;
}
const exampleRows = lines.map((l) => gadgetRows(parseLosslessJson(l) as FieldRecord[]));

function envelope(seq: number, data: unknown, extra: Record<string, unknown> = {}): string {
  const base = {
    type: 'gadget-data',
    seq,
    gadget: 'ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.55.1',
    datasource: 'samples',
    instanceID: 'abc123',
    timestamp: '2025-08-21T10:00:00.5Z',
    ...extra,
  };
  // Keep big integers exact: splice the original row text in.
  return JSON.stringify({ ...base, data: '#DATA#' }).replace(
    '"#DATA#"',
    typeof data === 'string' ? data : JSON.stringify(data),
  );
}

describe('JSON row source: formats', () => {
  it('reads `ig run -o json` lines (split into small chunks) with exact 64-bit fields', async () => {
    const h = harness();
    feed(h.stdin, lines.join('\n') + '\n', 7);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.origin),
      ['stdin:1', 'stdin:3', 'stdin:4', 'stdin:5'],
    );
    assert.deepEqual(
      batches.map((b) => b.rows.length),
      [4, 2, 2, 2],
    );
    const firstKernelIp = /"kernel_ip":(\d+)/.exec(lines[0]!)![1]!;
    assert.equal(getField(batches[0]!.rows[0]!, 'kernel_ip'), BigInt(firstKernelIp));
    const startedAt = /"containerStartedAt":(\d+)/.exec(lines[2]!)![1]!;
    assert.equal(getField(batches[1]!.rows[0]!, 'runtime.containerStartedAt'), BigInt(startedAt));
    assert.equal(h.counters.get('json_values_read'), 5);
    assert.equal(h.counters.get('rows_read'), 10);
    assert.equal(h.counters.get('json_emissions_empty'), 1);
    assert.equal(h.counters.get('json_values_malformed'), 0);
  });

  it('reads `-o jsonpretty` output: concatenated pretty arrays, `[]` included', async () => {
    const pretty = lines.map((l) => (l === '[]' ? '[]' : prettyArray(l)));
    const h = harness();
    feed(h.stdin, pretty.join('\n') + '\n', 1000);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => exactRows(b.rows)),
      exampleRows.filter((r) => r.length > 0),
    );
    // Origins name the line of each opening bracket.
    const starts: number[] = [];
    let line = 1;
    for (const p of pretty) {
      if (p !== '[]') starts.push(line);
      line += p.split('\n').length;
    }
    assert.deepEqual(
      batches.map((b) => b.origin),
      starts.map((s) => `stdin:${s}`),
    );
    assert.equal(h.counters.get('json_emissions_empty'), 1);
  });

  it('reads `kubectl gadget run -o json` combined arrays with rows from several nodes', async () => {
    const h = harness();
    feed(h.stdin, lines[4] + '\n');
    const { batches } = await collect(h.source);
    assert.equal(batches.length, 1);
    const nodes = new Set(batches[0]!.rows.map((r) => getField(r, 'k8s.node')));
    assert.equal(nodes.size, 2);
  });

  it('reads logs-operator envelopes, passes gadget and datasource to resolveSpec, counts gadget-data-empty', async () => {
    const hints: JsonSpecHint[] = [];
    const h = harness({ resolveSpec: (hint) => (hints.push(hint), testSpec(hint.datasource)) });
    const text = [
      envelope(1, lines[0]),
      JSON.stringify({
        type: 'gadget-data-empty',
        seq: 2,
        gadget: 'profile_cpu',
        datasource: 'samples',
        instanceID: 'abc123',
        timestamp: '2025-08-21T10:00:01.5Z',
      }),
      envelope(3, lines[2], { timestamp: '2025-08-21T10:00:02.5Z' }),
      JSON.stringify({ type: 'gadget-log', seq: 4, msg: 'something' }),
    ].join('\n');
    feed(h.stdin, text + '\n');
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    // Read before anything else touched the rows: the reader itself makes them exact.
    const kernelIp = /"kernel_ip":(\d+)/.exec(lines[0]!)![1]!;
    assert.equal(
      getField(batches[0]!.rows[1]!, 'kernel_ip'),
      BigInt(/"kernel_ip":(\d+)/g.exec(lines[0]!.slice(lines[0]!.indexOf('},{')))![1]!),
    );
    assert.equal(getField(batches[0]!.rows[0]!, 'kernel_ip'), BigInt(kernelIp));
    assert.deepEqual(
      batches.map((b) => exactRows(b.rows)),
      [exampleRows[0], exampleRows[2]],
    );
    assert.equal(hints.length, 2);
    assert.equal(hints[0]!.gadget, 'ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.55.1');
    assert.equal(hints[0]!.datasource, 'samples');
    assert.equal(hints[0]!.row, batches[0]!.rows[0]);
    assert.equal(h.counters.get('json_emissions_empty'), 1);
    assert.equal(h.counters.get('json_values_read'), 4);
    assert.ok(h.logger.lines.some((l) => l.message.includes('gadget-log')));
  });

  it('groups `logs.array-handling: elements` lines of one seq into one emission', async () => {
    const h = harness();
    const rowTexts = (line: string): string[] =>
      (JSON.parse(line.replace(/:(\d{16,})/g, ':"#$1"')) as unknown[]).map((r) =>
        JSON.stringify(r).replace(/"#(\d+)"/g, '$1'),
      );
    const seq7 = rowTexts(lines[0]!).map((r) => envelope(7, r));
    const seq8 = rowTexts(lines[4]!).map((r) => envelope(8, r, { timestamp: '2025-08-21T10:00:01.5Z' }));
    feed(h.stdin, [...seq7, ...seq8].join('\n') + '\n');
    const { batches } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => exactRows(b.rows)),
      [exampleRows[0], exampleRows[4]],
    );
    assert.deepEqual(
      batches.map((b) => b.origin),
      ['stdin:1', `stdin:${seq7.length + 1}`],
    );
    assert.equal(h.counters.get('rows_read'), exampleRows[0]!.length + exampleRows[4]!.length);
  });

  it('emits a pending element group when the input goes quiet', async () => {
    const h = harness();
    const iter = h.source.batches()[Symbol.asyncIterator]();
    h.stdin.write(envelope(1, { a: 1 }) + '\n' + envelope(1, { a: 2 }) + '\n');
    const first = await iter.next(); // stdin stays open: the idle timer completes the group
    assert.deepEqual((first.value as RowBatch).rows, [{ a: 1 }, { a: 2 }]);
    h.stdin.end(envelope(2, { a: 3 }) + '\n');
    const second = await iter.next();
    assert.deepEqual((second.value as RowBatch).rows, [{ a: 3 }]);
    assert.equal((await iter.next()).done, true);
  });

  it('accepts formats mixed on one stream and CRLF line ends', async () => {
    const h = harness();
    const text = [lines[0], prettyArray(lines[2]!), envelope(9, lines[3])].join('\n') + '\n';
    feed(h.stdin, text.replace(/\n/g, '\r\n'));
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => exactRows(b.rows)),
      [exampleRows[0], exampleRows[2], exampleRows[3]],
    );
  });

  it('drops rows without a profile mapping, counts them and warns once per datasource with a hint', async () => {
    const h = harness({ resolveSpec: () => undefined });
    feed(h.stdin, [lines[0], lines[2]].join('\n') + '\n');
    const { batches } = await collect(h.source);
    assert.equal(batches.length, 0);
    assert.equal(h.counters.get('rows_dropped', { reason: 'no_profile_mapping' }), 6);
    const warnings = h.logger.lines.filter(
      (l) => l.level === 'warn' && l.message.includes('no profile mapping'),
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /--annotate samples:profiles\.stack-fields=/);
  });

  it('drops array elements that are not objects and counts them', async () => {
    const h = harness();
    feed(h.stdin, '[{"a":1},42,"x",{"a":2}]\n');
    const { batches } = await collect(h.source);
    assert.deepEqual(batches[0]!.rows, [{ a: 1 }, { a: 2 }]);
    assert.equal(h.counters.get('rows_dropped', { reason: 'not_an_object' }), 2);
    assert.equal(h.counters.get('rows_read'), 4);
  });

  it('after stop(), stdin is still read until the upstream process ends it', async () => {
    const h = harness();
    const done = collect(h.source);
    h.stdin.write(lines[0] + '\n');
    await waitFor(() => h.counters.get('rows_read') === 4, 5000, 'the first line');
    const stopped = h.source.stop();
    h.stdin.end(lines[2] + '\n'); // e.g. `ig` flushing its maps on the same Ctrl-C
    await stopped;
    const { batches, error } = await done;
    assert.equal(error, undefined);
    assert.equal(batches.length, 2);
  });

  it('fails with the path when a file to replay cannot be read', async () => {
    const h = harness({ input: { kind: 'file', path: '/nonexistent/igop/capture.jsonl' } });
    const { error } = await collect(h.source);
    assert.match(error?.message ?? '', /^\/nonexistent\/igop\/capture\.jsonl: cannot read: .*ENOENT/);
  });
});
