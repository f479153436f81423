import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { getField, rowFields } from '../../../src/rows/gadget-row.js';
import { createJsonFramer } from '../../../src/gadget-bridge/json/json-framer.js';
import type { Frame } from '../../../src/gadget-bridge/json/json-framer.js';
import { parseLosslessJson } from '../../../src/gadget-bridge/json/lossless-json.js';
import { collect, exampleLines, feed, harness } from '../../support/json-input-fixtures.js';

const HEAD =
  '{"type":"gadget-data","seq":3,"gadget":"profile_cpu","datasource":"samples","instanceID":"ab12"';
const TS = '"timestamp":"2025-08-21T10:00:00.5Z"';

/** Every frame of `input` fed in chunks of `size` bytes, compactly: elements parsed, the rest by kind. */
function frames(input: string, size: number): unknown[] {
  const framer = createJsonFramer();
  const bytes = Buffer.from(input);
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
  out.push(...framer.end());
  return out.map((f) => {
    if (f.kind === 'element') return { el: JSON.parse(f.text) as unknown, line: f.line };
    if (f.kind === 'envelope-end') return { members: f.members, line: f.line, byte: f.byte, end: f.end };
    if (f.kind === 'error') return { error: f.reason, line: f.line, arrayLike: f.arrayLike };
    if (f.kind === 'text') return { text: f.text, line: f.line };
    return { kind: f.kind, line: f.line };
  });
}

/** The same frames whatever the chunking (1 byte, a few bytes, all at once). */
function framesEverySize(input: string): unknown[] {
  const whole = frames(input, input.length);
  for (const size of [1, 3, 64]) assert.deepEqual(frames(input, size), whole, `chunks of ${size} bytes`);
  return whole;
}

describe('JSON framer: logs envelope lines are split around their data array', () => {
  it('frames the data elements, then the members with "data":[] in their place, at any chunking', () => {
    const rows = [{ a: 1, s: 'x,]}{"data":[' }, { b: [2, { c: 'ü€😀' }] }];
    const line = `${HEAD},${TS},"data":${JSON.stringify(rows)}}`;
    const second = '[{"z":1}]';
    const input = `${line}\r\n${second}\n`;
    assert.deepEqual(framesEverySize(input), [
      { el: rows[0], line: 1 },
      { el: rows[1], line: 1 },
      {
        members: `${HEAD},${TS},"data":[]}\r`,
        line: 1,
        byte: 0,
        end: Buffer.byteLength(line) + 2,
      },
      { el: { z: 1 }, line: 2 },
      { kind: 'array-end', line: 2 },
    ]);
  });

  it('keeps the members that follow the data array', () => {
    const input = `${HEAD},"data":[{"a":1}] , "timestamp":"2025-08-21T10:00:00Z","extra":{"k":[1]}}\n`;
    assert.deepEqual(framesEverySize(input), [
      { el: { a: 1 }, line: 1 },
      {
        members: `${HEAD},"data":[] , "timestamp":"2025-08-21T10:00:00Z","extra":{"k":[1]}}`,
        line: 1,
        byte: 0,
        end: Buffer.byteLength(input),
      },
    ]);
  });

  it('takes a line whole when "data":[ is not a member of it, or there is no data array', () => {
    // The first `"data":[` is the end of the key `x"data` (an escaped quote inside it).
    const inString = `{"type":"gadget-data","x\\"data":[1],"data":[{"a":1}]}`;
    const nested = `{"type":"x","meta":{"data":[1]},"data":[{"a":1}]}`;
    const empty = `{"type":"gadget-data-empty","seq":2}`;
    const element = `${HEAD},"data":{"a":1}}`;
    const input = [inString, nested, empty, element].join('\n') + '\n';
    assert.deepEqual(framesEverySize(input), [
      { text: inString, line: 1 },
      { text: nested, line: 2 },
      { text: empty, line: 3 },
      { text: element, line: 4 },
    ]);
  });

  it('reports a data array that the line or the input ends inside, as an envelope (not array-like)', () => {
    const input = `${HEAD},"data":[{"a":1},{"b":\n${HEAD},"data":[{"a":1}`;
    const got = framesEverySize(input);
    assert.deepEqual(got.slice(0, 1), [{ el: { a: 1 }, line: 1 }]);
    assert.deepEqual(got.slice(1, 2), [
      { error: 'the line ends inside the array (no closing "]")', line: 1, arrayLike: false },
    ]);
    assert.deepEqual(got.slice(2), [
      {
        error: 'input ended in the middle of a value (truncated last line?): the array is not closed',
        line: 2,
        arrayLike: false,
      },
    ]);
  });

  it('an envelope line at column 0 breaks a pretty array that was not closed', () => {
    const input = `[\n  {"a":1}\n${HEAD},"data":[{"b":2}]}\n`;
    const got = framesEverySize(input) as { error?: string }[];
    assert.match(got[0]!.error ?? '', /pretty-printed array was not closed before line 3/);
    assert.deepEqual(got.slice(1), [
      { el: { b: 2 }, line: 3 },
      {
        members: `${HEAD},"data":[]}`,
        line: 3,
        byte: Buffer.byteLength('[\n  {"a":1}\n'),
        end: Buffer.byteLength(input),
      },
    ]);
  });
});

describe('JSON row source: split envelope lines', () => {
  const lines = exampleLines();
  const envelopeOf = (line: string, seq: number, tail = ''): string =>
    `{"type":"gadget-data","seq":${seq},"gadget":"profile_cpu","datasource":"samples","instanceID":"ab12","timestamp":"2025-08-21T10:00:0${seq}.5Z","data":${line}${tail}}`;

  it('gives the same exact rows, envelope fields and windows as the whole line', async () => {
    const h = harness();
    feed(h.stdin, [envelopeOf(lines[0]!, 1), envelopeOf(lines[2]!, 2, ',"x":1')].join('\n') + '\n', 4096);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.rows),
      [parseLosslessJson(lines[0]!), parseLosslessJson(lines[2]!)],
    );
    const ip = /"kernel_ip":(\d+)/.exec(lines[0]!)![1]!;
    assert.equal(getField(batches[0]!.rows[0]!, 'kernel_ip'), BigInt(ip));
    // The window ends at the envelope timestamp (10:00:01.5) and spans the 1 s fetch interval.
    const end = BigInt(Date.UTC(2025, 7, 21, 10, 0, 1, 500)) * 1_000_000n;
    assert.equal(batches[0]!.windowEndUnixNano, end);
    assert.equal(h.counters.get('rows_read'), batches[0]!.rows.length + batches[1]!.rows.length);
    assert.equal(h.counters.get('json_values_malformed'), 0);
  });

  it('skips and counts a bad element (keeping the others) or an envelope with bad members, naming line and cause', async () => {
    const h = harness();
    const badElement = envelopeOf('[{"a":1},{"b":}]', 1);
    const badMembers = `{"type":"gadget-data","seq":2,"data":[{"a":1}],}`;
    feed(h.stdin, [badElement, badMembers, envelopeOf('[{"samples":1}]', 3)].join('\n') + '\n', 7);
    const { batches, error } = await collect(h.source);
    assert.equal(error, undefined);
    assert.deepEqual(
      batches.map((b) => b.rows.map(rowFields)),
      [[{ a: 1 }], [{ samples: 1 }]],
    );
    assert.equal(h.counters.get('json_values_malformed'), 2);
    const warnings = h.logger.lines.filter((l) => l.level === 'warn').map((l) => l.message);
    assert.match(
      warnings[0]!,
      /^stdin:1 \(byte 0\): element 2 of "data": .*\(1 of 2 element\(s\) unreadable; the other 1 kept\)/,
    );
    assert.match(warnings[1]!, /^stdin:2 \(byte \d+\): the envelope around "data": /);
  });

  it('a later "data" member wins over the split array, as in JSON.parse', async () => {
    const h = harness();
    feed(h.stdin, `{"type":"gadget-data","seq":1,"data":[{"a":1}],"data":[{"b":2}]}\n`);
    const { batches } = await collect(h.source);
    assert.deepEqual(
      batches.map((b) => b.rows.map(rowFields)),
      [[{ b: 2 }]],
    );
  });
});
