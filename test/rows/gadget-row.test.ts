import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../src/rows/gadget-row.js';
import { fieldAccessor, getField } from '../../src/rows/gadget-row.js';
import { runWithoutCodeGeneration } from '../support/without-code-generation.js';

/** getField is compiled per dotted name; these pin down that it reads exactly as the generic walk did. */

describe('getField / fieldAccessor', () => {
  const row = {
    samples: 3,
    proc: { pid: 7, comm: 'app', creds: null },
    'proc.pid': 9,
    list: [1, 2],
    text: 'abc',
    odd: { 'we"ird\\name': 1, "it's": 2, '': 3 },
  } as unknown as GadgetRow;

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
