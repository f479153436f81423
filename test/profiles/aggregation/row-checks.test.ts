import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FieldRecord } from '../../../src/rows/gadget-row.js';
import { getField } from '../../../src/rows/gadget-row.js';
import { compileRowDecoder } from '../../../src/gadget-bridge/grpc/field-decoder.js';
import { decodeGadgetDataArray, encodeGadgetDataArray } from '../../../src/gadget-bridge/grpc/gadget-api.js';
import { PROFILE_CPU_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import { addSampleValues, rowChecker, sampleValueOf } from '../../../src/profiles/aggregation/row-checks.js';
import { INT64_MAX } from '../../../src/profiles/model/int64.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import { profileCpuSamplesDataSource } from '../../support/ig-profile-cpu-layout.js';
import { encodeRow } from '../../support/ig-row-encoder.js';
import { rowWith } from '../../support/profiles-fixtures.js';

const row = readIgExampleEmissions()[0]![0]!;
const check = rowChecker(PROFILE_CPU_SPEC);

describe('row checks', () => {
  it('values: exact non-negative int64 counts pass, the rest say why', () => {
    assert.equal(sampleValueOf(212, 'samples'), 212);
    assert.equal(sampleValueOf(9007199254740993n, 'samples'), 9007199254740993n);
    assert.equal(sampleValueOf(INT64_MAX, 'samples'), INT64_MAX);
    assert.equal(sampleValueOf(1e18, 'samples'), 1_000_000_000_000_000_000n);
    assert.equal(sampleValueOf(5n, 'samples'), 5);
    for (const bad of [1n << 63n, 1n << 64n, 1e19]) {
      const problem = sampleValueOf(bad, 'samples');
      assert.equal(typeof problem === 'object' && problem.reason, 'value_out_of_range', String(bad));
    }
    const invalid = { '-1': -1, '-1n': -1n, '1.5': 1.5, '"3"': '3', null: null, undefined, true: true };
    for (const [name, bad] of Object.entries({ ...invalid, array: [1], object: { a: 1 } })) {
      const problem = sampleValueOf(bad, 'samples');
      assert.equal(typeof problem === 'object' && problem.reason, 'invalid_value', name);
    }
  });

  it('a stack field that is not text is an invalid row, not "no stack collected"', () => {
    assert.equal(check(row), undefined);
    assert.equal(check(rowWith(row, { kern_stack: '' })), undefined, 'empty: no stack collected');
    assert.equal(check(rowWith(row, { kern_stack: null })), undefined, 'null: no stack collected');
    assert.deepEqual(check(rowWith(row, { kern_stack: 42 })), {
      reason: 'invalid_stack',
      detail: 'kern_stack is 42, not stack text',
    });
    assert.equal(
      check(
        rowWith(row, {
          user_stack_raw: { ...(getField(row, 'user_stack_raw') as FieldRecord), symbols: ['a'] },
        }),
      )?.reason,
      'invalid_stack',
    );
  });

  it('sums stay exact and stop at int64', () => {
    assert.equal(addSampleValues(Number.MAX_SAFE_INTEGER, 2), BigInt(Number.MAX_SAFE_INTEGER) + 2n);
    assert.equal(addSampleValues(INT64_MAX - 1n, 1), INT64_MAX);
    assert.equal(addSampleValues(INT64_MAX, 1), undefined);
  });

  it("IG's binary rows: a u64 samples of 2^63 decodes exact and is refused; 2^63 − 1 passes exact", () => {
    const samples = profileCpuSamplesDataSource(0);
    const decode = compileRowDecoder(samples);
    const rows = [rowWith(row, { samples: 1n << 63n }), rowWith(row, { samples: INT64_MAX })].map((r) =>
      encodeRow(samples, r, (n) =>
        n === 'user_stack_id' ? getField(r, 'user_stack_raw.stack_id') : undefined,
      ),
    );
    const decoded = decodeGadgetDataArray(
      encodeGadgetDataArray({ node: '', seq: 0, dataArray: rows }),
    ).dataArray.map(decode);
    assert.equal(getField(decoded[0]!, 'samples'), 1n << 63n);
    assert.equal(check(decoded[0]!)?.reason, 'value_out_of_range');
    assert.equal(check(decoded[1]!), undefined);
    assert.equal(sampleValueOf(getField(decoded[1]!, 'samples'), 'samples'), INT64_MAX);
  });
});
