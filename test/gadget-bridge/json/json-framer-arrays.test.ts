import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsonFramer } from '../../../src/gadget-bridge/json/json-framer.js';
import type { Frame } from '../../../src/gadget-bridge/json/json-framer.js';

/** Feeds `input` to a fresh framer in chunks of `size` bytes; returns every frame, end() included. */
function frameAll(input: string, size: number): Frame[] {
  const framer = createJsonFramer();
  const bytes = Buffer.from(input, 'utf8');
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
  out.push(...framer.end());
  return out;
}

/** What a frame list says, compactly: elements as their parsed value, the rest by kind. */
function summary(frames: readonly Frame[]): unknown[] {
  return frames.map((f) => {
    if (f.kind === 'element') return { el: JSON.parse(f.text) as unknown, line: f.line, byte: f.byte };
    if (f.kind === 'array-end') return { end: f.line, byte: f.byte };
    if (f.kind === 'error') return { error: f.line, byte: f.byte };
    if (f.kind === 'envelope-end') return { envelope: f.members, line: f.line };
    return { text: f.text, line: f.line };
  });
}

describe('JSON framer: single-line arrays element by element', () => {
  const tricky = [
    { s: 'a,b]}[{', n: 1 },
    { s: 'quote \\" and backslash \\\\', big: 1e21 },
    { s: 'ünïcødé-€ 😀', nested: [[1, { x: [] }], {}] },
    'plain string',
    42,
    null,
  ];
  const line = JSON.stringify(tricky);
  const input = `${line}\n[]\n  [ ]  \n${line}\r\n`;
  const expected = frameAll(input, input.length);

  it('yields each element, then the end of the array, with the line and byte of the array', () => {
    assert.deepEqual(summary(expected).slice(0, 7), [
      ...tricky.map((el) => ({ el, line: 1, byte: 0 })),
      { end: 1, byte: 0 },
    ]);
    const rest = summary(expected).slice(7);
    const second = Buffer.byteLength(line) + 1;
    assert.deepEqual(rest.slice(0, 1), [{ end: 2, byte: second }]);
    // A line with leading spaces is not split (it is not `[` at column 0) but framed whole.
    assert.deepEqual(rest[1], { text: '  [ ]  ', line: 3 });
    assert.deepEqual(rest.slice(-1), [{ end: 4, byte: second + 3 + 8 }]);
  });

  it('frames the same at every chunk size (strings, escapes and UTF-8 split across chunks)', () => {
    for (let size = 1; size <= 40; size++) {
      assert.deepEqual(summary(frameAll(input, size)), summary(expected), `chunk size ${size}`);
    }
  });

  it('emits elements before the line ends, so a long line is never held whole', () => {
    const framer = createJsonFramer();
    const long = JSON.stringify(Array.from({ length: 100 }, (_, i) => ({ i, pad: 'x'.repeat(100) })));
    const firstHalf = framer.push(Buffer.from(long.slice(0, long.length / 2)));
    assert.ok(firstHalf.length >= 40, `only ${firstHalf.length} frames from the first half`);
    assert.ok(firstHalf.every((f) => f.kind === 'element'));
    const rest = [...framer.push(Buffer.from(long.slice(long.length / 2) + '\n')), ...framer.end()];
    assert.equal(firstHalf.length + rest.length, 101);
    assert.equal(rest.at(-1)?.kind, 'array-end');
  });

  it('reports broken array lines as errors at the line start, without an array-end', () => {
    const cases: [string, RegExp][] = [
      ['[1,2', /line ends inside the array/],
      ['[1,]', /element 2 of the array is empty/],
      ['[,1]', /element 1 of the array is empty/],
      ['[1]x', /unexpected text after/],
      ['[1}', /closes the array/],
      ['["abc', /line ends inside the array/],
    ];
    for (const [text, reason] of cases) {
      const frames = frameAll(`[0]\n${text}\n[3]\n`, 3);
      const errors = frames.filter((f) => f.kind === 'error');
      assert.equal(errors.length, 1, text);
      assert.match(errors[0]?.kind === 'error' ? errors[0].reason : '', reason, text);
      assert.deepEqual({ line: errors[0]?.line, byte: errors[0]?.byte }, { line: 2, byte: 4 }, text);
      assert.deepEqual(
        frames.filter((f) => f.kind === 'array-end').map((f) => f.line),
        [1, 3],
        text,
      );
    }
  });

  it('reports an unclosed array at the end of input as truncated', () => {
    const frames = frameAll('[1]\n[{"a":', 4);
    const last = frames.at(-1);
    assert.equal(last?.kind, 'error');
    assert.match(last?.kind === 'error' ? last.reason : '', /^input ended in the middle of a value/);
  });

  it('still treats a line that is only "[" as the opener of a pretty-printed array', () => {
    const frames = frameAll('[\r\n  {"a": 1}\n]\n[5]\n', 2);
    assert.deepEqual(summary(frames), [
      { text: '[\n  {"a": 1}\n]', line: 1 },
      { el: 5, line: 4, byte: 16 },
      { end: 4, byte: 16 },
    ]);
  });
});
