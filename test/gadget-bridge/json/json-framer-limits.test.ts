import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsonFramer } from '../../../src/gadget-bridge/json/json-framer.js';
import type { Frame } from '../../../src/gadget-bridge/json/json-framer.js';

const MAX = 64;

/** Feeds `input` in chunks of `size` bytes to a framer with a small maximum line size. */
function frameAll(input: string, size: number): Frame[] {
  const framer = createJsonFramer({ maxLineBytes: MAX });
  const bytes = Buffer.from(input, 'utf8');
  const out: Frame[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...framer.push(bytes.subarray(i, i + size)));
  out.push(...framer.end());
  return out;
}

/** Errors as [line, byte, arrayLike]; values as their line (elements, ends and texts). */
function summary(frames: readonly Frame[]): unknown[] {
  return frames.map((f) =>
    f.kind === 'error'
      ? {
          error: f.line,
          byte: f.byte,
          arrayLike: f.arrayLike,
          tooLong: /maximum line size \(64 bytes\)/.test(f.reason),
        }
      : { [f.kind]: f.line },
  );
}

const long = (prefix: string): string => `${prefix}"${'x'.repeat(MAX)}"`;

describe('JSON framer: lines over the maximum line size', () => {
  const good = '[{"a":1}]';
  const input = [
    good, // line 1, byte 0
    `[${long('')}]`, // line 2: an array line, streamed, still too long
    good,
    `{"type":"gadget-data","data":[${long('')}]}`, // line 4: an envelope line
    good,
    `not json ${'y'.repeat(MAX)}`, // line 6: a plain line (held whole otherwise)
    '[',
    `  ${long('')},`, // line 8, too long itself, breaks the pretty array of line 7
    '  {"a":2}',
    ']',
    good, // line 11
    '[', // line 12: a pretty array whose lines are short, but too long together
    `  "${'w'.repeat(40)}",`,
    `  "${'w'.repeat(40)}"`,
    ']',
    good, // line 16
  ].join('\n');
  const byteOf = (line: number): number =>
    input
      .split('\n')
      .slice(0, line - 1)
      .reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

  for (const size of [1, 7, input.length]) {
    it(`skips each long line whole, with its line and byte, and frames the rest (chunks of ${size})`, () => {
      const frames = summary(frameAll(input, size));
      const errors = frames.filter((f) => (f as { error?: number }).error !== undefined);
      assert.deepEqual(errors, [
        { error: 2, byte: byteOf(2), arrayLike: true, tooLong: true },
        { error: 4, byte: byteOf(4), arrayLike: false, tooLong: true },
        { error: 6, byte: byteOf(6), arrayLike: false, tooLong: true },
        { error: 7, byte: byteOf(7), arrayLike: true, tooLong: true },
        { error: 12, byte: byteOf(12), arrayLike: true, tooLong: true },
      ]);
      // The good lines all come through: element + array-end for lines 1, 3, 5, 11 and 16.
      for (const line of [1, 3, 5, 11, 16])
        assert.ok(
          frames.some((f) => (f as { 'array-end'?: number })['array-end'] === line),
          `line ${line}`,
        );
    });
  }

  it('a line of exactly the maximum is read', () => {
    const exact = `[${'"'.padEnd(MAX - 3, 'z')}"]`;
    assert.equal(Buffer.byteLength(exact), MAX);
    const frames = frameAll(`${exact}\n`, 5);
    assert.deepEqual(
      frames.map((f) => f.kind),
      ['element', 'array-end'],
    );
  });

  it('a long last line without a newline is reported at the end of input', () => {
    const frames = frameAll(`${good}\n[${long('')}`, 3);
    const last = frames.at(-1);
    assert.equal(last?.kind, 'error');
    assert.equal(last.kind === 'error' && last.line, 2);
    assert.match(last.kind === 'error' ? last.reason : '', /longer than the maximum line size/);
  });
});
