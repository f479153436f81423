import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LONG_STRING_CHARS } from '../../../src/gadget-bridge/json/array-line-splitter.js';
import { parseJsonElement } from '../../../src/gadget-bridge/json/json-element-parser.js';
import { LongStringCache } from '../../../src/gadget-bridge/json/long-string-cache.js';
import { JsonSyntaxError, parseLosslessJson } from '../../../src/gadget-bridge/json/lossless-json.js';
import type { JsonValue } from '../../../src/gadget-bridge/json/lossless-json.js';
import { exampleLines, splitArrayLine } from '../../support/json-input-fixtures.js';
import type { SplitElement } from '../../support/json-input-fixtures.js';
import { seededRandom } from '../../support/seeded-random.js';

/** The raw contents the long-string offsets point at. */
const longContents = (s: SplitElement): string[] => {
  const out: string[] = [];
  const spans = s.spans.longStrings ?? [];
  for (let k = 0; k < spans.length; k += 2) out.push(s.text.slice(spans[k], spans[k + 1]));
  return out;
};

const long = (c: string, extra = 0): string => c.repeat(LONG_STRING_CHARS + extra);

describe('array splitter: long member-value strings and control escapes', () => {
  it('notes the contents of long member values only: not keys, array strings or short values', () => {
    const stack = `${long('a', 10)}; \\"quoted\\"; ü€; ${long('b')}`;
    const line =
      `[{"kern_stack":"${stack}","short":"${long('s').slice(1)}","${long('k')}":1,` +
      `"list":["${long('x')}"],"nested":{"id":"${long('c')}"}},"${long('e')}",{"n":12345678901234567890}]`;
    for (const size of [1, 3, 64, 4096]) {
      const elements = splitArrayLine(line, size);
      assert.deepEqual(elements.map(longContents), [[stack, long('c')], [], []], `chunks of ${size} bytes`);
      assert.equal(
        elements[2]!.spans.longStrings,
        undefined,
        'no offsets for an element without long strings',
      );
      assert.deepEqual(
        elements.map((e) => e.spans.controlEscape),
        [false, false, false],
      );
    }
  });

  it('flags \\u0000–\\u001f escapes at any chunking, other escapes only when a chunk cuts them', () => {
    const cases: [string, boolean][] = [
      ['"a\\u0001b"', true],
      ['"\\u0000"', true],
      ['"\\u001F"', true],
      ['"\\u0020"', false],
      ['"\\u00e9"', false],
      ['"\\\\u0001"', false], // an escaped backslash followed by the text u0001
      ['"\\n\\t\\"\\/"', false],
    ];
    for (const [value, flagged] of cases) {
      const line = `[{"v":${value}}]`;
      for (let size = 1; size <= line.length; size++) {
        const [element] = splitArrayLine(line, size);
        // An escape cut by a chunk boundary may be one: the splitter errs on the safe side.
        if (flagged || size === line.length)
          assert.equal(element!.spans.controlEscape, flagged, `${value} in chunks of ${size} bytes`);
      }
      const cut = splitArrayLine(line, line.indexOf('\\') + 2)[0]!; // the chunk ends right after `\u`
      if (value.startsWith('"\\u') || value.includes('a\\u'))
        assert.equal(cut.spans.controlEscape, true, `${value} cut after \\u`);
    }
  });
});

describe('parseJsonElement', () => {
  it('gives what the exact parser gives on the example capture, sharing one cache', () => {
    const cache = new LongStringCache();
    let elements = 0;
    for (const line of exampleLines()) {
      for (const size of [5, 64 * 1024]) {
        const parsed = splitArrayLine(line, size).map((s) => parseJsonElement(s.text, s.spans, cache));
        assert.deepEqual(parsed, parseLosslessJson(line));
        elements += parsed.length;
      }
    }
    assert.ok(elements > 10, `${elements} elements`);
  });

  it('matches the exact parser on random documents with long strings, escapes and big integers', () => {
    const { int: rnd, digits } = seededRandom(4242);
    const pieces = ['frame', '; ', 'ü', '€', '\\"', '\\\\', '\\n', '\\u0041', '\\ud83d\\ude00', '0x1f', ' '];
    const longString = (): string => {
      let s = '';
      while (s.length < LONG_STRING_CHARS + rnd(3 * LONG_STRING_CHARS)) s += pieces[rnd(pieces.length)];
      // A few collide on purpose: the same raw text again, or a near copy.
      return `"${s}"`;
    };
    const atom = (): string => {
      switch (rnd(9)) {
        case 0:
        case 1:
          return longString();
        case 2:
          return `${rnd(2) ? '-' : ''}${digits(16 + rnd(5))}`;
        case 3:
          return '"\\u0001 a real control character"';
        case 4:
          return '"\\u00001"';
        case 5:
          return String(rnd(1000));
        case 6:
          return `"${'k'.repeat(LONG_STRING_CHARS)}"`;
        default:
          return '"plain"';
      }
    };
    const gen = (depth: number): string => {
      if (depth > 3 || rnd(3) === 0) return atom();
      const items = Array.from({ length: rnd(6) }, () => gen(depth + 1));
      if (rnd(2)) return `[${items.join(', ')}]`;
      // Integer-like keys come first when an object is walked: markers must not depend on order.
      const key = (i: number): string => (rnd(4) === 0 ? String(i) : rnd(5) === 0 ? long('K') : `k${i}`);
      return `{${items.map((v, i) => `"${key(i)}":${v}`).join(',')}}`;
    };
    const cache = new LongStringCache(4096); // small: start-overs happen during the run
    for (let i = 0; i < 400; i++) {
      const line = `[${Array.from({ length: 1 + rnd(4) }, () => `{"row":${gen(1)},"again":${gen(1)}}`).join(',')}]`;
      const exact = parseLosslessJson(line) as JsonValue[];
      const parsed = splitArrayLine(line, 1 + rnd(200)).map((s) => parseJsonElement(s.text, s.spans, cache));
      assert.deepEqual(parsed, exact, line);
      assert.ok(cache.heldChars <= 4096, `held ${cache.heldChars}`);
    }
  });

  it('reports a bad long string or a bad element with the position in the element', () => {
    const cache = new LongStringCache();
    const badEscape = `[{"s":"${long('a')}\\x"}]`;
    const [element] = splitArrayLine(badEscape, 7);
    assert.throws(
      () => parseJsonElement(element!.text, element!.spans, cache),
      (err: unknown) => err instanceof JsonSyntaxError && err.position === 6 + LONG_STRING_CHARS + 1,
    );
    const [trailingComma] = splitArrayLine(`[{"s":"${long('a')}","a":12345678901234567890,}]`, 4096);
    assert.throws(() => parseJsonElement(trailingComma!.text, trailingComma!.spans, cache), /position 97/);
  });
});

describe('LongStringCache', () => {
  it('decodes once per raw text: a repeat is a hit and holds nothing more', () => {
    const cache = new LongStringCache();
    const text = `xx${long('a')}\\u0041yy`;
    const end = text.length - 2;
    assert.equal(cache.decode(text, 2, end), `${long('a')}A`);
    const held = cache.heldChars;
    assert.ok(held > 0);
    assert.equal(cache.decode(`${text}`, 2, end), `${long('a')}A`);
    assert.equal(cache.heldChars, held, 'the repeat was served from the cache');
    assert.equal(cache.decode(text, 2, end - 1), undefined, 'an escape cut in half is not a JSON string');
  });

  it('keeps texts apart that differ only where the sampled hash does not look, within a bounded bucket', () => {
    const cache = new LongStringCache();
    // Equal length, equal ends: the samples of a 4,000-character text are far apart.
    const variants = Array.from({ length: 9 }, (_, i) => `${'x'.repeat(1000)}${i}${'x'.repeat(2999)}`);
    for (let round = 0; round < 2; round++) {
      for (const v of variants) assert.equal(cache.decode(v, 0, v.length), v);
    }
    // At most BUCKET_LIMIT (4) of them are held at once, and the accounting stays exact.
    assert.ok(cache.heldChars <= 4 * (4000 + 100), `held ${cache.heldChars}`);
  });

  it('starts over when its budget is spent', () => {
    const cache = new LongStringCache(1000);
    for (let i = 0; i < 20; i++) {
      const s = `${i}${long('z', 200)}`;
      assert.equal(cache.decode(s, 0, s.length), s);
      assert.ok(cache.heldChars <= 1000, `held ${cache.heldChars}`);
    }
  });
});
