import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldRecord, GadgetRow } from '../../src/rows/gadget-row.js';
import { fieldAccessor, gadgetRow, gadgetRows, getField, rowFields } from '../../src/rows/gadget-row.js';
import { parseJsonDeferringExactness } from '../../src/gadget-bridge/json/deferred-exact-json.js';
import { runWithoutCodeGeneration } from '../support/without-code-generation.js';

/** getField is compiled per dotted name; these pin down that it reads exactly as the generic walk did. */

describe('getField / fieldAccessor', () => {
  const row = gadgetRow({
    samples: 3,
    proc: { pid: 7, comm: 'app', creds: null },
    'proc.pid': 9,
    list: [1, 2],
    text: 'abc',
    odd: { 'we"ird\\name': 1, "it's": 2, '': 3 },
  });

  it('reads nested fields by their dotted name, and undefined when absent', () => {
    assert.equal(getField(row, 'samples'), 3);
    assert.equal(getField(row, 'proc.comm'), 'app');
    assert.equal(getField(row, 'proc.tid'), undefined);
    assert.equal(getField(row, 'missing.deeper'), undefined);
    assert.equal(getField(row, ''), undefined);
  });

  it('a field literally named with dots wins over the nested path', () => {
    assert.equal(getField(row, 'proc.pid'), 9);
  });

  it('does not step into null, arrays or strings', () => {
    assert.equal(getField(row, 'proc.creds.user'), undefined);
    assert.equal(getField(row, 'list.0'), undefined);
    assert.equal(getField(row, 'text.length'), undefined);
    assert.deepEqual(getField(row, 'list'), [1, 2]);
  });

  it('reads names with quotes, backslashes and empty parts literally', () => {
    assert.equal(getField(row, 'odd.we"ird\\name'), 1);
    assert.equal(getField(row, "odd.it's"), 2);
    assert.equal(getField(row, 'odd.'), 3);
  });

  it('an array row reads only its own entries, as before', () => {
    const arrayRow = [5] as unknown as GadgetRow;
    assert.equal(getField(arrayRow, '0'), 5);
    assert.equal(getField(arrayRow, 'length'), 1);
    assert.equal(getField(arrayRow, 'a.b'), undefined);
  });

  it('hands out one compiled accessor per name', () => {
    assert.equal(fieldAccessor('proc.comm'), fieldAccessor('proc.comm'));
    assert.equal(fieldAccessor('proc.comm')(row), 'app');
  });

  it('reads the same where code generation is disallowed (generic walk)', () => {
    const module = new URL('../../src/rows/gadget-row.ts', import.meta.url).href;
    const script = `const { getField } = await import(${JSON.stringify(module)});
      const row = { proc: { pid: 7 }, 'proc.tid': 8, list: [1] };
      console.log(JSON.stringify([getField(row, 'proc.pid'), getField(row, 'proc.tid'), getField(row, 'list.0') ?? null]));`;
    const run = runWithoutCodeGeneration(script);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '[7,8,null]');
  });
});

describe('GadgetRow: read only through the readers', () => {
  /** Beyond 2^53: JSON.parse rounds it to 18446744073709551616. */
  const BIG = '18446744073709551615';

  it('a direct field read does not compile (it would return the rounded number)', () => {
    const [row] = gadgetRows(parseJsonDeferringExactness(`[{"kernel_ip":${BIG}}]`) as FieldRecord[]);
    // The type checker (npm run typecheck covers test/) fails here if a row gains readable fields again.
    // @ts-expect-error -- GadgetRow has no fields: read them with getField / fieldAccessor
    const direct: unknown = row!.kernel_ip;
    // @ts-expect-error -- nor an index signature
    const indexed: unknown = row!['kernel_ip'];
    assert.equal(direct, 18446744073709551616, 'what the direct read would have given: rounded');
    assert.equal(indexed, 18446744073709551616);
    assert.equal(getField(row!, 'kernel_ip'), BigInt(BIG), 'the reader: exact');
  });

  it('gadgetRow and gadgetRows are the same objects, typed (nothing copied on the ingest path)', () => {
    const fields = { a: 1 };
    const records = [fields];
    assert.equal(gadgetRow(fields), fields);
    assert.equal(gadgetRows(records), records);
  });

  it('rowFields hands out the whole row exact', () => {
    const [row] = gadgetRows(
      parseJsonDeferringExactness(`[{"a":${BIG},"o":{"b":-${BIG}}}]`) as FieldRecord[],
    );
    assert.deepStrictEqual(rowFields(row!), { a: BigInt(BIG), o: { b: -BigInt(BIG) } });
  });
});
