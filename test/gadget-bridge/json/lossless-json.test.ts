import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  JsonSyntaxError,
  parseJsonExact,
  parseLosslessJson,
} from '../../../src/gadget-bridge/json/lossless-json.js';
import type { JsonValue } from '../../../src/gadget-bridge/json/lossless-json.js';
import { exampleLines } from '../../support/json-input-fixtures.js';
import { seededRandom } from '../../support/seeded-random.js';

type Obj = { [k: string]: JsonValue };

/** Values of `key` anywhere in `v`, in document order. */
function valuesOf(v: JsonValue, key: string, out: JsonValue[] = []): JsonValue[] {
  if (Array.isArray(v)) for (const x of v) valuesOf(x, key, out);
  else if (v !== null && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === key) out.push(x);
      valuesOf(x, key, out);
    }
  }
  return out;
}

/** JSON text with bigints written as plain integers. */
function stringify(v: JsonValue): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `#BIG#${x}` : x)).replace(
    /"#BIG#(-?\d+)"/g,
    '$1',
  );
}

describe('parseLosslessJson', () => {
  it('keeps every 64-bit field of the example lines exact (compared with the digits in the file)', () => {
    let bigints = 0;
    for (const line of exampleLines()) {
      const parsed = parseLosslessJson(line);
      for (const key of [
        'kernel_ip',
        'containerStartedAt',
        'otel_correlation_id',
        'boot_timestamp',
        'mntns_id',
        'samples',
      ]) {
        const digits = [...line.matchAll(new RegExp(`"${key}":(-?\\d+)`, 'g'))].map((m) => m[1]!);
        const values = valuesOf(parsed, key);
        assert.equal(values.length, digits.length, key);
        values.forEach((v, i) => {
          const d = digits[i]!;
          if (BigInt(d) > BigInt(Number.MAX_SAFE_INTEGER)) {
            assert.equal(typeof v, 'bigint', `${key}=${d} must be a bigint`);
            assert.equal((v as bigint).toString(), d);
            bigints++;
          } else {
            assert.equal(typeof v, 'number', `${key}=${d} must stay a number`);
            assert.equal(String(v as number), d);
          }
        });
      }
      // Everything else matches JSON.parse.
      assert.deepEqual(
        JSON.parse(stringify(parsed).replace(/:(\d{16,})/g, ':"$1"')),
        JSON.parse(line.replace(/:(\d{16,})/g, ':"$1"')),
      );
    }
    assert.ok(bigints >= 8, `the examples hold several values beyond 2^53 (found ${bigints})`);
  });

  it('leaves strings that look like numbers untouched', () => {
    const text =
      '{"user":"uid:12345678901234567890","plain":"12345678901234567890","tricky":"a:12345678901234567890,",' +
      '"arr":"[12345678901234567890]","esc":"x\\":18446744073709551615,\\"","n":18446744073709551615}';
    const v = parseLosslessJson(text) as Obj;
    assert.equal(v.user, 'uid:12345678901234567890');
    assert.equal(v.plain, '12345678901234567890');
    assert.equal(v.tricky, 'a:12345678901234567890,');
    assert.equal(v.arr, '[12345678901234567890]');
    assert.equal(v.esc, 'x":18446744073709551615,"');
    assert.equal(v.n, 18446744073709551615n);
  });

  it('converts exactly at the safe-integer boundary, in arrays and with whitespace', () => {
    const v = parseLosslessJson(
      '[9007199254740991, 9007199254740992,-9007199254740992,\n  18446744073709551615 ,[1234567890123456789],1e20,12345678901234567890.5,-0,1234567890123456]',
    ) as JsonValue[];
    assert.deepEqual(v, [
      9007199254740991,
      9007199254740992n,
      -9007199254740992n,
      18446744073709551615n,
      [1234567890123456789n],
      1e20,
      Number('12345678901234567890.5'),
      -0,
      1234567890123456,
    ]);
    assert.equal(parseLosslessJson('18446744073709551615'), 18446744073709551615n);
    assert.equal(parseLosslessJson('"18446744073709551615"'), '18446744073709551615');
  });

  it('keeps a real \\u0000 escape as a string while converting big integers', () => {
    const v = parseLosslessJson('{"a":"\\u0000123","b":12345678901234567890,"c":["\\u0000"]}') as Obj;
    assert.equal(v.a, '\u0000123');
    assert.equal(v.b, 12345678901234567890n);
    assert.deepEqual(v.c, ['\u0000']);
  });

  it('rejects invalid JSON like JSON.parse does, with a position', () => {
    for (const bad of [
      '[1,}',
      '[1,2',
      '{"a":1',
      '[01234567890123456789]',
      '[1] x',
      '"\u0001"',
      '{"a" 1}',
      '',
    ]) {
      assert.throws(() => JSON.parse(bad), SyntaxError, bad);
      assert.throws(
        () => parseLosslessJson(bad),
        (err: unknown) => err instanceof SyntaxError,
        bad,
      );
    }
    assert.throws(
      () => parseLosslessJson('[1,\n  x]'),
      (err: unknown) => err instanceof JsonSyntaxError && err.position === 6,
    );
  });

  it('treats __proto__ as an ordinary key in the exact parser, like JSON.parse', () => {
    const v = parseJsonExact('{"__proto__":{"polluted":1},"s":"\\u0000"}') as Obj;
    assert.equal(Object.getPrototypeOf(v), Object.prototype);
    assert.deepEqual(Object.keys(v), ['__proto__', 's']);
    assert.equal(({} as Obj).polluted, undefined);
  });

  it('round-trips random documents with big integers and number-like strings exactly', () => {
    const { int: rnd, digits } = seededRandom(12345);
    const atoms = (): JsonValue => {
      switch (rnd(9)) {
        case 0:
          return BigInt(digits(16 + rnd(4))) * (rnd(2) ? 1n : -1n);
        case 1:
          return rnd(1_000_000);
        case 2:
          return `uid:${digits(20)}`;
        case 3:
          return `:${digits(18)},`;
        case 4:
          return `"${digits(17)}"]\\`;
        case 5:
          return rnd(2) === 0;
        case 6:
          return null;
        case 7:
          return 1.5;
        default:
          return 'plain';
      }
    };
    const gen = (depth: number): JsonValue => {
      if (depth > 3 || rnd(3) === 0) return atoms();
      if (rnd(2)) return Array.from({ length: rnd(5) }, () => gen(depth + 1));
      const o: Obj = {};
      for (let i = rnd(6); i > 0; i--) o[`k${rnd(10)}`] = gen(depth + 1);
      return o;
    };
    for (let i = 0; i < 400; i++) {
      const doc = [gen(0), gen(0)];
      const normalise = (v: JsonValue): JsonValue =>
        typeof v === 'bigint' && v >= -BigInt(Number.MAX_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER)
          ? Number(v)
          : v;
      const expected = JSON.parse(
        JSON.stringify(doc, (_k, x: unknown) => (typeof x === 'bigint' ? `#B${x}` : x)),
        (_k, x: unknown) => (typeof x === 'string' && x.startsWith('#B') ? normalise(BigInt(x.slice(2))) : x),
      ) as JsonValue;
      const text = stringify(doc);
      assert.deepEqual(parseLosslessJson(text), expected, text);
      assert.deepEqual(parseJsonExact(text), expected, text);
    }
  });
});
