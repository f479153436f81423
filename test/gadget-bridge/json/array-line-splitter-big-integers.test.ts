import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  parseJsonWithKnownBigIntegers,
  parseLosslessJson,
} from '../../../src/gadget-bridge/json/lossless-json.js';
import type { JsonValue } from '../../../src/gadget-bridge/json/lossless-json.js';
import { exampleLines, splitArrayLine } from '../../support/json-input-fixtures.js';
import { seededRandom } from '../../support/seeded-random.js';

interface Split {
  readonly text: string;
  readonly big: readonly number[] | undefined;
}

/** Elements of one array line fed `size` bytes at a time, with the big-integer offsets noted. */
const split = (line: string, size: number): Split[] =>
  splitArrayLine(line, size).map(({ text, spans }) => ({ text, big: spans.bigIntegers }));

/** The tokens the offsets point at. */
const tokens = (s: Split): string[] => {
  const out: string[] = [];
  for (let k = 0; k < (s.big?.length ?? 0); k += 2) out.push(s.text.slice(s.big![k], s.big![k + 1]));
  return out;
};

describe('array splitter: integers of 16+ digits outside strings', () => {
  it('notes exactly the integer tokens, sign included, at any chunking', () => {
    const line =
      '[{"a":18446744072005365524,"s":"12345678901234567890 and :1234567890123456789,","b":-9007199254740993,' +
      '"f":1.2345678901234567,"e":1e16,"g":12345678901234567e2,"h":-1E-12345678901234567,"n":123,' +
      '"x":[1,23456789012345678901]}, 98765432109876543210 ,"ü€",{"k":0},-1234567890123456]';
    const expected = [
      ['18446744072005365524', '-9007199254740993', '23456789012345678901'],
      ['98765432109876543210'],
      [],
      [],
      ['-1234567890123456'],
    ];
    for (const size of [1, 2, 5, 17, 4096]) {
      const elements = split(line, size);
      assert.deepEqual(elements.map(tokens), expected, `chunks of ${size} bytes`);
      assert.equal(elements[2]!.big, undefined, 'no offsets for an element without big integers');
    }
  });

  it('parses every element exactly from the noted offsets, as the exact parser does', () => {
    let elements = 0;
    for (const line of exampleLines()) {
      for (const size of [3, 64 * 1024]) {
        const parsed = split(line, size).map((s) => parseJsonWithKnownBigIntegers(s.text, s.big));
        assert.deepEqual(parsed, parseLosslessJson(line));
        elements += parsed.length;
      }
    }
    assert.ok(elements > 10, `${elements} elements`);
  });

  it('matches the exact parser on random documents with big integers and number-like strings', () => {
    const { int: rnd, digits } = seededRandom(777);
    const atom = (): string => {
      switch (rnd(8)) {
        case 0:
          return `${rnd(2) ? '-' : ''}${digits(15 + rnd(6))}`;
        case 1:
          return `${digits(16)}.${digits(3)}`;
        case 2:
          return `${digits(17)}e${rnd(2) ? '-' : '+'}${digits(2)}`;
        case 3:
          return JSON.stringify(`:${digits(18)},]`);
        case 4:
          return JSON.stringify(`\\"${digits(17)}`);
        case 5:
          return String(rnd(1000));
        case 6:
          return 'true';
        default:
          return '"plain"';
      }
    };
    const gen = (depth: number): string => {
      if (depth > 3 || rnd(3) === 0) return atom();
      const items = Array.from({ length: rnd(5) }, () => gen(depth + 1));
      return rnd(2) ? `[${items.join(', ')}]` : `{${items.map((v, i) => `"k${i}":${v}`).join(',')}}`;
    };
    for (let i = 0; i < 300; i++) {
      const line = `[${Array.from({ length: 1 + rnd(4) }, () => gen(0)).join(',')}]`;
      const exact = parseLosslessJson(line) as JsonValue[];
      const parsed = split(line, 1 + rnd(40)).map((s) => parseJsonWithKnownBigIntegers(s.text, s.big));
      assert.deepEqual(parsed, exact, line);
    }
  });

  it('reports a bad element with its own position, and keeps a real \\u0000 escape a string', () => {
    assert.throws(() => parseJsonWithKnownBigIntegers('{"a":12345678901234567890,}', [5, 25]), /position 26/);
    assert.deepEqual(parseJsonWithKnownBigIntegers('{"s":"\\u00001","a":12345678901234567890}', [19, 39]), {
      s: '\u00001',
      a: 12345678901234567890n,
    });
  });
});
