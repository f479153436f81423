import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldAccessor, gadgetRow, gadgetRows, getField, getString } from '../../../src/rows/gadget-row.js';
import type { FieldRecord, GadgetRow } from '../../../src/rows/gadget-row.js';
import { readEnvelope } from '../../../src/gadget-bridge/json/logs-envelope.js';
import { parseJsonDeferringExactness } from '../../../src/gadget-bridge/json/deferred-exact-json.js';
import { JsonSyntaxError, parseLosslessJson } from '../../../src/gadget-bridge/json/lossless-json.js';
import type { JsonValue } from '../../../src/gadget-bridge/json/lossless-json.js';
import { runWithoutCodeGeneration } from '../../support/without-code-generation.js';
import { exampleLines } from '../../support/json-input-fixtures.js';

const BIG = '18446744072005365524'; // kernel_ip of the examples: JSON.parse rounds it
const BIG_NEXT = '18446744072005365530'; // rounds to the same double as BIG

/** The fields readers get: every dotted name of a row, by walking the exact parse. */
function dottedNames(v: JsonValue, prefix = '', out: string[] = []): string[] {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return out;
  for (const [k, x] of Object.entries(v)) {
    out.push(prefix + k);
    dottedNames(x, `${prefix}${k}.`, out);
  }
  return out;
}

describe('parseJsonDeferringExactness: JSON.parse now, exact integers on read', () => {
  it('gives every field of the example rows, read through the accessors, exactly as the exact parse', () => {
    let big = 0;
    for (const line of exampleLines()) {
      const exact = parseLosslessJson(line) as FieldRecord[];
      const rows = gadgetRows(parseJsonDeferringExactness(line) as FieldRecord[]);
      assert.equal(rows.length, exact.length);
      rows.forEach((row, i) => {
        const names = dottedNames(exact[i]!);
        // Read in reverse order too, so the first read that repairs may be any field.
        for (const name of i % 2 ? names : [...names].reverse()) {
          const want = getField(gadgetRow(exact[i]!), name);
          assert.deepEqual(fieldAccessor(name)(row), want, name);
          if (typeof want === 'bigint') big++;
        }
      });
    }
    assert.ok(big >= 8, `the examples hold several values beyond 2^53 (read ${big})`);
  });

  it('tells apart integers that round to the same double', () => {
    const rows = gadgetRows(parseJsonDeferringExactness(`[{"a":${BIG}},{"a":${BIG_NEXT}}]`) as FieldRecord[]);
    assert.equal(Number(BIG), Number(BIG_NEXT), 'the two are one double');
    assert.equal(getField(rows[1] as GadgetRow, 'a'), BigInt(BIG_NEXT));
    assert.equal(getField(rows[0] as GadgetRow, 'a'), BigInt(BIG));
  });

  it('makes a nested object exact before handing it out, and strings of it show exact digits', () => {
    const [row] = gadgetRows(
      parseJsonDeferringExactness(
        `[{"runtime":{"containerStartedAt":1755772401905342761,"ids":[${BIG},-${BIG}]}}]`,
      ) as FieldRecord[],
    );
    assert.deepEqual(getField(row as GadgetRow, 'runtime'), {
      containerStartedAt: 1755772401905342761n,
      ids: [BigInt(BIG), -BigInt(BIG)],
    });
    assert.equal(getString(row as GadgetRow, 'runtime.ids'), `["${BIG}","-${BIG}"]`);
  });

  it('reaches the rows of a logs envelope, its data object, and its seq', () => {
    const env = parseJsonDeferringExactness(
      `{"type":"gadget-data","seq":9007199254740993,"data":[{"x":${BIG}},7,{"y":{"z":${BIG_NEXT}}}]}`,
    ) as { [k: string]: JsonValue };
    assert.equal(readEnvelope(env).seq, 9007199254740993n);
    const data = gadgetRows(env.data as FieldRecord[]);
    assert.equal(getField(data[2] as GadgetRow, 'y.z'), BigInt(BIG_NEXT));
    assert.equal(getField(data[0] as GadgetRow, 'x'), BigInt(BIG));
    const single = parseJsonDeferringExactness(`{"type":"gadget-data","seq":1,"data":{"x":${BIG}}}`) as {
      data: FieldRecord;
    };
    assert.equal(getField(gadgetRow(single.data), 'x'), BigInt(BIG));
  });

  it('keeps safe integers numbers, texts without 16 digits untouched, and floats as JSON.parse has them', () => {
    const [row] = gadgetRows(
      parseJsonDeferringExactness(
        '[{"pid":9007199254740991,"neg":-9007199254740991,"f":1.5e300,"s":"12345678901234567890"}]',
      ) as FieldRecord[],
    );
    assert.equal(getField(row as GadgetRow, 'pid'), Number.MAX_SAFE_INTEGER);
    assert.equal(getField(row as GadgetRow, 'neg'), -Number.MAX_SAFE_INTEGER);
    assert.equal(getField(row as GadgetRow, 'f'), 1.5e300);
    assert.equal(getField(row as GadgetRow, 's'), '12345678901234567890');
    const plain = '[{"a":1,"b":{"c":"x"}}]';
    assert.deepEqual(parseJsonDeferringExactness(plain), JSON.parse(plain));
  });

  it('parses a bare top-level big integer exactly, and a real \\u0000 escape as a string', () => {
    assert.equal(parseJsonDeferringExactness(BIG), BigInt(BIG));
    const [row] = gadgetRows(
      parseJsonDeferringExactness(`[{"s":"\\u0000${BIG}","n":${BIG}}]`) as FieldRecord[],
    );
    assert.equal(getField(row as GadgetRow, 's'), `\u0000${BIG}`);
    assert.equal(getField(row as GadgetRow, 'n'), BigInt(BIG));
  });

  it('rejects invalid JSON with the position of the fault', () => {
    const text = `[{"a":${BIG}},{"b":]`;
    assert.throws(
      () => parseJsonDeferringExactness(text),
      (err: unknown) => err instanceof JsonSyntaxError && err.position === text.length - 1,
    );
  });

  it('adds nothing a row consumer can see: keys, JSON text and deep equality are those of JSON.parse', () => {
    const text = `[{"k":${BIG},"o":{"p":1}}]`;
    const [row] = gadgetRows(parseJsonDeferringExactness(text) as FieldRecord[]);
    const [plain] = JSON.parse(text) as GadgetRow[];
    assert.deepEqual(Object.keys(row as GadgetRow), ['k', 'o']);
    assert.equal(JSON.stringify(row), JSON.stringify(plain));
    assert.deepStrictEqual(row, plain);
  });

  it('makes rows exact through the generic walk where code generation is disallowed', () => {
    const gadgetRow = new URL('../../../src/rows/gadget-row.ts', import.meta.url).href;
    const deferred = new URL('../../../src/gadget-bridge/json/deferred-exact-json.ts', import.meta.url).href;
    const script = `const { getField } = await import(${JSON.stringify(gadgetRow)});
      const { parseJsonDeferringExactness } = await import(${JSON.stringify(deferred)});
      const rows = parseJsonDeferringExactness('[{"a":{"b":${BIG}}},{"a":{"b":${BIG_NEXT}}}]');
      console.log(String(getField(rows[1], 'a.b')), String(getField(rows[0], 'a.b')));`;
    const run = runWithoutCodeGeneration(script);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, `${BIG_NEXT} ${BIG}`);
  });
});
