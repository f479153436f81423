import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { anyValueKey, keyValueKey } from '../../../src/profiles/model/any-value-key.js';
import type { AnyValue } from '../../../src/profiles/model/otlp-model.js';
import { DictionaryBuilder } from '../../../src/profiles/request/dictionary-builder.js';
import { validateRequest } from '../../../src/profiles/validation/conformance-validator.js';
import { completeRequest } from '../../support/encoding-fixtures.js';

const str = (stringValue: string): AnyValue => ({ stringValue });
const arr = (...values: AnyValue[]): AnyValue => ({ arrayValue: { values } });
const kv = (...pairs: [string, AnyValue | undefined][]): AnyValue => ({
  kvlistValue: { values: pairs.map(([key, value]) => (value === undefined ? { key } : { key, value })) },
});

/**
 * Pairs of different values that an ambiguous key merges. The ones marked so collided in the
 * dictionary builder's former copy (strings unquoted, array items joined by \u0001, kvlist keys
 * unquoted, -0 printed as 0).
 */
const DIFFERENT: readonly (readonly [string, AnyValue | undefined, AnyValue | undefined])[] = [
  ['string "1" / int 1', str('1'), { intValue: 1n }],
  ['string "1" / double 1', str('1'), { doubleValue: 1 }],
  ['int 1 / double 1', { intValue: 1n }, { doubleValue: 1 }],
  ['int 1 / bool true', { intValue: 1n }, { boolValue: true }],
  ['double 0 / double -0 (old builder: both "d0")', { doubleValue: 0 }, { doubleValue: -0 }],
  ['string "true" / bool true', str('true'), { boolValue: true }],
  ['string "" / no value', str(''), undefined],
  ['string "-" / no value', str('-'), undefined],
  ['empty bytes / empty string', { bytesValue: new Uint8Array(0) }, str('')],
  ['bytes 0x01 / bytes 0x0001', { bytesValue: Uint8Array.of(1) }, { bytesValue: Uint8Array.of(0, 1) }],
  ['bytes / their hex as a string', { bytesValue: Uint8Array.of(0xab) }, str('ab')],
  ['string holding a key / the value it imitates', str('i1'), { intValue: 1n }],
  [
    'array item holding the separator / two items (old builder: both "a[sa\\u0001sb]")',
    arr(str('a\u0001sb')),
    arr(str('a'), str('b')),
  ],
  ['array item holding "," / two items', arr(str('a,s1:b')), arr(str('a'), str('b'))],
  ['array item holding "]" / nested array', arr(str('a]'), str('x')), arr(arr(str('a')), str('x'))],
  ['nested [[a],b] / [[a,b]]', arr(arr(str('a')), str('b')), arr(arr(str('a'), str('b')))],
  ['empty array / array of an empty string', arr(), arr(str(''))],
  ['empty array / empty kvlist', arr(), kv()],
  [
    'kvlist key holding "=" / key and value (old builder: both "k{a=sb=sc}")',
    kv(['a=sb', str('c')]),
    kv(['a', str('b=sc')]),
  ],
  ['kvlist key without value / with empty string', kv(['a', undefined]), kv(['a', str('')])],
  ['kvlist in another order', kv(['a', str('1')], ['b', str('2')]), kv(['b', str('2')], ['a', str('1')])],
  ['kvlist key holding "," / two entries', kv(['a,1:b', str('x')]), kv(['a', undefined], ['b', str('x')])],
  ['int64 max / max + 1 as double', { intValue: 9223372036854775807n }, { doubleValue: 2 ** 63 }],
  ['int 2^53+1 / 2^53', { intValue: 9007199254740993n }, { intValue: 9007199254740992n }],
  ['strindex 1 / strindex 2 (no table)', { stringValueStrindex: 1 }, { stringValueStrindex: 2 }],
  ['strindex 1 / string "1" (no table)', { stringValueStrindex: 1 }, str('1')],
];

describe('anyValueKey', () => {
  for (const [name, a, b] of DIFFERENT) {
    it(`tells apart ${name}`, () => {
      assert.notEqual(anyValueKey(a), anyValueKey(b));
    });
  }

  it('gives equal values one key, whatever object holds them', () => {
    const same: readonly (readonly [AnyValue, AnyValue])[] = [
      [str('a,b'), str('a,b')],
      [{ intValue: -9223372036854775808n }, { intValue: -(1n << 63n) }],
      [{ doubleValue: NaN }, { doubleValue: 0 / 0 }],
      [{ doubleValue: 0.1 + 0.2 }, { doubleValue: 0.30000000000000004 }],
      // A view into a larger buffer is the bytes it shows, not the whole buffer.
      [
        { bytesValue: new Uint8Array(Uint8Array.of(9, 1, 2, 9).buffer, 1, 2) },
        { bytesValue: Uint8Array.of(1, 2) },
      ],
      [arr(str('x'), kv(['k', { boolValue: false }])), arr(str('x'), kv(['k', { boolValue: false }]))],
    ];
    for (const [a, b] of same) assert.equal(anyValueKey(a), anyValueKey(b));
  });

  it('reads a string_table reference as the string it points at when the table is given', () => {
    const table = ['', 'eu-west', '1'];
    assert.equal(anyValueKey({ stringValueStrindex: 1 }, table), anyValueKey(str('eu-west')));
    assert.equal(anyValueKey(arr({ stringValueStrindex: 2 }), table), anyValueKey(arr(str('1'))));
    assert.notEqual(anyValueKey({ stringValueStrindex: 2 }, table), anyValueKey({ intValue: 1n }));
    // Out of range: its own value, by index, never some string's.
    assert.notEqual(anyValueKey({ stringValueStrindex: 7 }, table), anyValueKey(str('')));
  });

  it('keyValueKey: a "=" in the key cannot shift the pair boundary', () => {
    assert.notEqual(keyValueKey('a=s1:b', str('c')), keyValueKey('a', str('b=s1:c')));
    assert.notEqual(keyValueKey('a', undefined), keyValueKey('a=-', undefined));
    assert.equal(keyValueKey('a', str('b')), keyValueKey('a', str('b')));
  });
});

describe('anyValueKey in its users', () => {
  it('the dictionary builder keeps -0 and 0, and separator-holding strings, as distinct entries', () => {
    const dict = new DictionaryBuilder();
    const values = [
      { doubleValue: 0 },
      { doubleValue: -0 },
      arr(str('a\u0001sb')),
      arr(str('a'), str('b')),
      kv(['a=sb', str('c')]),
      kv(['a', str('b=sc')]),
    ];
    const indices = values.map((v) => dict.attribute('k', v));
    assert.equal(new Set(indices).size, values.length, `indices ${indices.join(',')}`);
    // Equal values still share one entry.
    assert.equal(dict.attribute('k', { doubleValue: -0 }), indices[1]);
    assert.equal(dict.attribute('k', arr(str('a'), str('b'))), indices[3]);
    const stored = dict.build().attributeTable[indices[1]!]!.value;
    assert.ok(stored !== undefined && 'doubleValue' in stored && Object.is(stored.doubleValue, -0));
  });

  it('the validator finds an attribute entry whose string_table reference repeats a plain string', () => {
    const request = completeRequest();
    const d = request.dictionary;
    const at = d.stringTable.indexOf('profile.frame.type');
    assert.ok(at > 0);
    d.attributeTable.push(
      { keyStrindex: at, unitStrindex: 0, value: str('zz-only-here') },
      {
        keyStrindex: at,
        unitStrindex: 0,
        value: { stringValueStrindex: d.stringTable.push('zz-only-here') - 1 },
      },
    );
    const dupes = validateRequest(request, { checkOrphans: false }).filter((x) =>
      /duplicate of/.test(x.message),
    );
    const first = d.attributeTable.length - 2;
    assert.deepEqual(
      dupes.map((x) => `${x.path}: ${x.message}`),
      [`dictionary.attribute_table[${first + 1}]: duplicate of attribute_table[${first}]`],
    );
  });

  it('the validator keeps -0 and 0 apart, as the builder does', () => {
    const request = completeRequest();
    const d = request.dictionary;
    d.attributeTable.push(
      { keyStrindex: 1, unitStrindex: 0, value: { doubleValue: 0 } },
      { keyStrindex: 1, unitStrindex: 0, value: { doubleValue: -0 } },
    );
    const dupes = validateRequest(request, { checkOrphans: false }).filter((x) =>
      /duplicate of/.test(x.message),
    );
    assert.deepEqual(dupes, []);
  });
});
