import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { FieldRecord, GadgetRow } from '../../../src/rows/gadget-row.js';
import { compileRowDecoder, decodedFieldNames } from '../../../src/gadget-bridge/grpc/field-decoder.js';
import type { DataSource, Field } from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import { decodeGadgetDataArray, encodeGadgetDataArray } from '../../../src/gadget-bridge/grpc/gadget-api.js';
import {
  DATASOURCE_FLAG_BIG_ENDIAN,
  DATASOURCE_TYPE_ARRAY,
  FIELD_FLAG_EMPTY,
  FIELD_FLAG_HIDDEN,
  FIELD_FLAG_UNREFERENCED,
  Kind,
  KIND_FLAG_ARRAY,
} from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import {
  IG_EXAMPLES_PATH,
  parseJsonBigint,
  readIgExampleEmissions,
  stringifyJsonBigint,
} from '../../support/ig-json.js';
import type { ProfileCpuLayoutOptions } from '../../support/ig-profile-cpu-layout.js';
import { profileCpuSamplesDataSource } from '../../support/ig-profile-cpu-layout.js';
import { encodeRow } from '../../support/ig-row-encoder.js';
import { getField, rowFields } from '../../../src/rows/gadget-row.js';

function field(
  fullName: string,
  kind: number,
  payloadIndex: number,
  offs: number,
  size: number,
  extra: Partial<Field> = {},
): Field {
  return {
    name: fullName.split('.').pop()!,
    fullName,
    index: 0,
    payloadIndex,
    offs,
    size,
    flags: 0,
    kind,
    tags: [],
    annotations: {},
    parent: 0,
    order: 0,
    ...extra,
  };
}

function ds(fields: Field[], bigEndian = false): DataSource {
  return {
    id: 0,
    name: 't',
    type: DATASOURCE_TYPE_ARRAY,
    fields,
    tags: [],
    annotations: {},
    flags: bigEndian ? DATASOURCE_FLAG_BIG_ENDIAN : 0,
  };
}

/** Writes the same values in either byte order into one 64-byte struct slot. */
function scalarSlot(le: boolean): Uint8Array {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  v.setUint8(0, 1); // bool
  v.setInt8(1, -5);
  v.setInt16(2, -1234, le);
  v.setInt32(4, -123456789, le);
  v.setBigInt64(8, -9007199254740993n, le); // below -(2^53-1): bigint
  v.setUint8(16, 250);
  v.setUint16(18, 65000, le);
  v.setUint32(20, 4294967282, le);
  v.setBigUint64(24, 18446744072005365524n, le); // > 2^53: bigint
  v.setFloat32(32, 1.5, le);
  v.setFloat64(40, -2.25, le);
  v.setBigUint64(48, 9007199254740991n, le); // exactly 2^53-1: number
  v.setBigInt64(56, -42n, le);
  return b;
}

const SCALARS: Field[] = [
  field('b', Kind.Bool, 0, 0, 1),
  field('i8', Kind.Int8, 0, 1, 1),
  field('i16', Kind.Int16, 0, 2, 2),
  field('i32', Kind.Int32, 0, 4, 4),
  field('i64', Kind.Int64, 0, 8, 8),
  field('u8', Kind.Uint8, 0, 16, 1),
  field('u16', Kind.Uint16, 0, 18, 2),
  field('u32', Kind.Uint32, 0, 20, 4),
  field('u64', Kind.Uint64, 0, 24, 8),
  field('f32', Kind.Float32, 0, 32, 4),
  field('f64', Kind.Float64, 0, 40, 8),
  field('u64safe', Kind.Uint64, 0, 48, 8),
  field('i64small', Kind.Int64, 0, 56, 8),
];

const SCALAR_ROW = {
  b: true,
  f32: 1.5,
  f64: -2.25,
  i16: -1234,
  i32: -123456789,
  i64: -9007199254740993n,
  i64small: -42,
  i8: -5,
  u16: 65000,
  u32: 4294967282,
  u64: 18446744072005365524n,
  u64safe: 9007199254740991,
  u8: 250,
};

describe('field decoder: kinds and byte order', () => {
  for (const bigEndian of [false, true]) {
    it(`decodes every scalar kind (${bigEndian ? 'big' : 'little'}-endian)`, () => {
      const decode = compileRowDecoder(ds(SCALARS, bigEndian));
      const row = decode({ payload: [scalarSlot(!bigEndian)] });
      assert.deepEqual(row, SCALAR_ROW);
      assert.deepEqual(Object.keys(row), Object.keys(SCALAR_ROW).sort(), 'keys sorted by byte order');
    });
  }

  it('reads the wrong byte order differently (endianness flag is honoured)', () => {
    const decode = compileRowDecoder(ds(SCALARS, false));
    assert.notDeepEqual(decode({ payload: [scalarSlot(false)] }), SCALAR_ROW);
  });

  it('decodes strings, C strings, bytes and whole-slot fields', () => {
    const text = new TextEncoder();
    const cstr = new Uint8Array(16);
    cstr.set(text.encode('cat'));
    cstr[4] = 0x41; // junk after the NUL must not show
    const fields = [
      field('s', Kind.String, 1, 0, 0),
      field('c', Kind.CString, 0, 0, 16),
      field('full', Kind.CString, 3, 0, 0),
      field('raw', Kind.Bytes, 2, 0, 0),
      field('n', Kind.Uint32, 4, 0, 0), // operator-added number in its own slot
      field('flag', Kind.Bool, 5, 0, 0),
    ];
    const n = new Uint8Array(4);
    new DataView(n.buffer).setUint32(0, 83451, true);
    const row = compileRowDecoder(ds(fields))({
      payload: [
        cstr,
        text.encode('a; b; é '),
        Uint8Array.of(0x0a, 0xff, 0x00, 0x01),
        text.encode('no-nul'),
        n,
        Uint8Array.of(0, 2),
      ],
    });
    assert.deepEqual(row, { c: 'cat', flag: true, full: 'no-nul', n: 83451, raw: '0aff0001', s: 'a; b; é ' });
  });

  it('decodes arrays of packed elements (kind | 0x10000000)', () => {
    const b = new Uint8Array(12);
    const v = new DataView(b.buffer);
    [7, 4294967295, 0].forEach((x, i) => v.setUint32(i * 4, x, false));
    const u64 = new Uint8Array(16);
    new DataView(u64.buffer).setBigUint64(0, 18446744073709551615n, false);
    new DataView(u64.buffer).setBigUint64(8, 3n, false);
    const fields = [
      field('ids', Kind.Uint32 | KIND_FLAG_ARRAY, 0, 0, 12),
      field('big', Kind.Uint64 | KIND_FLAG_ARRAY, 1, 0, 0),
      field('chars', Kind.CString | KIND_FLAG_ARRAY, 2, 0, 0),
    ];
    const row = compileRowDecoder(ds(fields, true))({ payload: [b, u64, Uint8Array.of(0x68, 0x69)] });
    assert.deepEqual(row, { big: [18446744073709551615n, 3], chars: '6869', ids: [7, 4294967295, 0] });
  });

  it('gives zero values for missing or short slots instead of throwing', () => {
    const fields = [
      field('a', Kind.Uint64, 3, 0, 0),
      field('s', Kind.String, 4, 0, 0),
      field('x', Kind.Uint32, 0, 8, 4),
    ];
    assert.deepEqual(compileRowDecoder(ds(fields))({ payload: [new Uint8Array(4)] }), { a: 0, s: '', x: 0 });
  });

  it('nests dotted names, skips Empty, Unreferenced and json.skip fields, shows hidden ones', () => {
    const u32 = (x: number): Uint8Array => {
      const b = new Uint8Array(4);
      new DataView(b.buffer).setUint32(0, x, true);
      return b;
    };
    const fields = [
      field('z', Kind.Uint32, 0, 0, 0),
      field('k8s', Kind.Invalid, 0, 0, 0, { flags: FIELD_FLAG_EMPTY }),
      field('k8s.owner', Kind.Invalid, 0, 0, 0, { flags: FIELD_FLAG_EMPTY }),
      field('k8s.owner.name', Kind.String, 1, 0, 0),
      field('k8s.node', Kind.String, 2, 0, 0),
      field('gone', Kind.String, 3, 0, 0, { flags: FIELD_FLAG_UNREFERENCED }),
      field('secret', Kind.Uint32, 0, 0, 0, { annotations: { 'json.skip': 'true' } }),
      field('skipped', Kind.Invalid, 0, 0, 0, {
        flags: FIELD_FLAG_EMPTY,
        annotations: { 'json.skip': 'true' },
      }),
      field('skipped.child', Kind.String, 1, 0, 0),
      field('hidden', Kind.Uint32, 4, 0, 0, { flags: FIELD_FLAG_HIDDEN }),
      field('lonely', Kind.Invalid, 0, 0, 0, { flags: FIELD_FLAG_EMPTY }),
    ];
    const enc = new TextEncoder();
    const row = compileRowDecoder(ds(fields))({
      payload: [u32(1), enc.encode('web'), enc.encode('node-a'), enc.encode('x'), u32(9)],
    });
    assert.equal(JSON.stringify(row), '{"hidden":9,"k8s":{"node":"node-a","owner":{"name":"web"}},"z":1}');
    assert.deepEqual(decodedFieldNames(ds(fields)), ['hidden', 'k8s.node', 'k8s.owner.name', 'z']);
  });
});

describe('field decoder: profile_cpu rows as IG lays them out', () => {
  const emissions = readIgExampleEmissions();
  const lines = readFileSync(IG_EXAMPLES_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.trim());
  const variants: [string, ProfileCpuLayoutOptions][] = [
    ['IG layout', {}],
    ['reordered slots', { reorderSlots: true }],
    ['big-endian', { bigEndian: true }],
    [
      'reversed field list, reordered, big-endian',
      { reverseFields: true, reorderSlots: true, bigEndian: true },
    ],
  ];
  for (const [name, layout] of variants) {
    it(`decodes the example rows back to the -o json objects (${name})`, () => {
      const samples = profileCpuSamplesDataSource(0, layout);
      const decode = compileRowDecoder(samples);
      emissions.forEach((rows, i) => {
        const bytes = encodeGadgetDataArray({
          node: '',
          seq: 0,
          dataArray: rows.map((r) =>
            encodeRow(samples, r, (n) =>
              n === 'user_stack_id' ? getField(r, 'user_stack_raw.stack_id') : undefined,
            ),
          ),
        });
        const decoded: GadgetRow[] = decodeGadgetDataArray(bytes).dataArray.map(decode);
        assert.deepStrictEqual(decoded, rows, `line ${i + 1}`);
        // Same text as IG printed: key order and number precision included.
        assert.equal(stringifyJsonBigint(decoded.map(rowFields)), lines[i], `line ${i + 1} text`);
      });
    });
  }

  it('the bigint-safe reader keeps >2^53 values exact', () => {
    assert.equal(
      (parseJsonBigint('{"a":18446744072005365524,"b":9007199254740991}') as FieldRecord).a,
      18446744072005365524n,
    );
    assert.equal((parseJsonBigint('{"b":9007199254740991}') as FieldRecord).b, 9007199254740991);
    assert.equal(typeof getField(emissions[0]![0]!, 'kernel_ip'), 'bigint');
  });
});
