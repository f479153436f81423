import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MALFORMED_WARNINGS } from '../../../src/gadget-bridge/json/json-row-source.js';
import { collect, exampleLines, feed, harness, prettyArray } from '../../support/json-input-fixtures.js';

const lines = exampleLines();
const warnings = (h: ReturnType<typeof harness>): string[] =>
  h.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);

describe('JSON row source: malformed input', () => {
  const good1 = '[{"proc":{"comm":"ünïcødé-€"},"samples":1}]';
  const bad = '[{"proc":{"comm":"x"},}]';
  const good3 = '[{"samples":3}]';
  const badByte = Buffer.byteLength(good1) + 1; // not good1.length: the comm is multi-byte UTF-8

  it('reports a bad line mid-stream with line and byte offset, counts and skips it', async () => {
    const h = harness();
    feed(h.stdin, [good1, bad, good3].join('\n') + '\n', 5);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.origin),
      ['stdin:1', 'stdin:3'],
    );
    assert.equal(h.counters.get('json_values_malformed'), 1);
    const w = warnings(h);
    assert.equal(w.length, 1);
    assert.ok(w[0]!.startsWith(`stdin:2 (byte ${badByte}): `), w[0]);
    assert.ok(w[0]!.endsWith(' — skipped'), w[0]);
  });

  it('fails with the same location in strict mode, after the batches before it', async () => {
    const h = harness({ strict: true });
    feed(h.stdin, [good1, bad, good3].join('\n') + '\n');
    const { batches, error } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => b.origin),
      ['stdin:1'],
    );
    assert.ok(error);
    assert.ok(error.message.startsWith(`stdin:2 (byte ${badByte}): `), error.message);
    assert.match(error.message, /strict/);
  });

  it('reports a truncated final line (input ended mid-array)', async () => {
    const h = harness();
    feed(h.stdin, lines[0] + '\n' + lines[2]!.slice(0, 500));
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.equal(batches.length, 1);
    assert.equal(h.counters.get('json_values_malformed'), 1);
    const w = warnings(h);
    assert.ok(
      w[0]!.startsWith(
        `stdin:2 (byte ${Buffer.byteLength(lines[0]!) + 1}): input ended in the middle of a value`,
      ),
      w[0],
    );
  });

  it('accepts a complete last line without a newline', async () => {
    const h = harness();
    feed(h.stdin, lines[0]!);
    const { batches } = await collect(h.source);
    assert.equal(batches.length, 1);
    assert.equal(h.counters.get('json_values_malformed'), 0);
  });

  it('reports values of the wrong top-level type and non-JSON lines (stderr mixed in)', async () => {
    const h = harness();
    const input =
      ['{"foo":1}', '42', 'null', 'time="2025-08-21T10:00:00Z" level=warning msg="x"', good3].join('\n') +
      '\n';
    feed(h.stdin, input);
    const { batches } = await collect(h.source);
    assert.equal(batches.length, 1);
    assert.equal(h.counters.get('json_values_malformed'), 4);
    const w = warnings(h);
    assert.match(
      w[0]!,
      /^stdin:1 \(byte 0\): expected a JSON array of rows .* got an object without a "type" field — skipped$/,
    );
    assert.match(w[1]!, /^stdin:2 \(byte 10\): not JSON/);
    assert.match(w[3]!, /^stdin:4 \(byte 18\): not JSON .*2>&1/);
  });

  it('reports a broken pretty array and resynchronises at the next "[" at column 0', async () => {
    const first = prettyArray(lines[0]!).split('\n');
    const cut = first.slice(0, 20).join('\n'); // the array never closes
    const second = prettyArray(lines[2]!);
    const garbage = ['[', '  {', 'oops, not indented', '  }', ']'].join('\n');
    const third = prettyArray(lines[3]!);
    const h = harness();
    feed(h.stdin, [cut, second, garbage, third].join('\n') + '\n');
    const { batches } = await collect(h.source);
    const secondLine = 21;
    const garbageLine = secondLine + second.split('\n').length;
    const thirdLine = garbageLine + 5;
    assert.deepEqual(
      batches.map((b) => b.origin),
      [`stdin:${secondLine}`, `stdin:${thirdLine}`],
    );
    assert.equal(h.counters.get('json_values_malformed'), 2);
    const w = warnings(h);
    assert.match(w[0]!, /^stdin:1 \(byte 0\): the pretty-printed array was not closed/);
    assert.match(
      w[1]!,
      new RegExp(
        `^stdin:${garbageLine} \\(byte \\d+\\): line ${garbageLine + 2} breaks the pretty-printed array`,
      ),
    );
  });

  it('reports a pretty array cut off by the end of input', async () => {
    const pretty = prettyArray(lines[0]!).split('\n');
    const h = harness();
    feed(h.stdin, lines[2] + '\n' + pretty.slice(0, 30).join('\n') + '\n');
    const { batches } = await collect(h.source);
    assert.equal(batches.length, 1);
    assert.match(
      warnings(h)[0]!,
      new RegExp(
        `^stdin:2 \\(byte ${Buffer.byteLength(lines[2]!) + 1}\\): input ended inside the pretty-printed array`,
      ),
    );
  });

  it('logs the first malformed values one by one, then only counts them', async () => {
    const h = harness();
    feed(h.stdin, Array.from({ length: MAX_MALFORMED_WARNINGS + 15 }, () => '[1,').join('\n') + '\n');
    await collect(h.source);
    assert.equal(h.counters.get('json_values_malformed'), MAX_MALFORMED_WARNINGS + 15);
    assert.equal(warnings(h).length, MAX_MALFORMED_WARNINGS + 1);
  });
});
