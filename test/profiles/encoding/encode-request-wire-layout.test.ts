import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import {
  completeRequest,
  KERNEL_ADDRESS,
  PROFILE_ID,
  SPAN_ID,
  T0,
  TRACE_ID,
} from '../../support/encoding-fixtures.js';
import {
  fieldsNamed,
  only,
  packedFixed64,
  packedVarints,
  readFields,
} from '../../support/encoding-wire-reader.js';

/** resource_profiles[i].scope_profiles[0].profiles[0] bytes. */
function profileBytes(bytes: Uint8Array, i: number): Uint8Array {
  const rp = fieldsNamed(bytes, 1)[i]!.bytes!;
  return only(only(rp, 2), 2);
}

describe('wire layout (opentelemetry-proto v1.10+/v1.11 field numbers)', () => {
  const request = completeRequest();
  const bytes = encodeExportRequest(request);

  it('Sample: stack_index=1, attribute_indices=2 (packed), link_index=3, values=4 (packed), timestamps=5 (packed fixed64)', () => {
    const p1 = profileBytes(bytes, 0);
    const s0 = fieldsNamed(p1, 2)[0]!.bytes!;
    assert.deepStrictEqual(
      readFields(s0).map((f) => [f.field, f.wireType]),
      [
        [1, 0],
        [2, 2],
        [3, 0],
        [5, 2],
      ],
    );
    const fs = readFields(s0);
    assert.equal(fs[0]!.varint, 1n); // stack_index
    assert.deepStrictEqual(packedVarints(fs[1]!.bytes!), [4n, 5n]); // attribute_indices
    assert.equal(fs[2]!.varint, 1n); // link_index
    assert.deepStrictEqual(packedFixed64(fs[3]!.bytes!), [T0 + 1n, T0 + 2n]);
    assert.equal(s0[0], 0x08);

    // Second resource: values present (field 4), negative int64 as 10-byte two's complement (the
    // encoder writes any int64; the validator is what refuses a negative count).
    const negative = completeRequest();
    negative.resourceProfiles[1]!.scopeProfiles[0]!.profiles[0]!.samples[0]!.values = [-3n, 1n << 40n];
    const p2 = profileBytes(encodeExportRequest(negative), 1);
    const s = readFields(fieldsNamed(p2, 2)[0]!.bytes!);
    const values = s.find((f) => f.field === 4);
    assert.ok(values && values.wireType === 2, 'values is field 4, length-delimited (packed)');
    const raw = packedVarints(values.bytes!);
    assert.deepStrictEqual(raw, [(1n << 64n) - 3n, 1n << 40n]);
    assert.equal(values.bytes!.length, 10 + 6);
    assert.deepStrictEqual(packedFixed64(s.find((f) => f.field === 5)!.bytes!), [T0, T0 + 999n]);
  });

  it('Profile: time_unix_nano is fixed64 field 3, duration 4, period_type 5, period 6, profile_id 7, attribute_indices 11', () => {
    const p1 = readFields(profileBytes(bytes, 0));
    const byField = new Map(p1.map((f) => [f.field, f]));
    assert.equal(byField.get(3)!.wireType, 1);
    assert.equal(
      new DataView(byField.get(3)!.bytes!.buffer, byField.get(3)!.bytes!.byteOffset, 8).getBigUint64(0, true),
      T0,
    );
    assert.equal(byField.get(4)!.varint, 10_000_000_000n);
    assert.equal(byField.get(5)!.wireType, 2);
    assert.equal(byField.get(6)!.varint, 10_000_000n);
    assert.deepStrictEqual([...byField.get(7)!.bytes!], [...PROFILE_ID]);
    assert.deepStrictEqual(packedVarints(byField.get(11)!.bytes!), [6n, 7n]);
    assert.deepStrictEqual(
      readFields(byField.get(1)!.bytes!).map((f) => [f.field, f.varint]),
      [
        [1, BigInt(request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.sampleType!.typeStrindex)],
        [2, BigInt(request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.sampleType!.unitStrindex)],
      ],
    );
    // Second profile: dropped_attributes_count 8, original_payload_format 9, original_payload 10.
    const p2 = new Map(readFields(profileBytes(bytes, 1)).map((f) => [f.field, f]));
    assert.equal(p2.get(8)!.varint, 1n);
    assert.equal(Buffer.from(p2.get(9)!.bytes!).toString(), 'pprof');
    assert.deepStrictEqual([...p2.get(10)!.bytes!], [0x1f, 0x8b, 0x08, 0x00]);
  });

  it('dictionary tables are fields 1..7 in table order; entries carry their documented field numbers', () => {
    const dict = only(bytes, 2);
    const tags = readFields(dict).map((f) => f.field);
    const sorted = [...tags].sort((a, b) => a - b);
    assert.deepStrictEqual(tags, sorted);
    // Mapping 1: memory_start 1, memory_limit 2, file_offset 3, filename 4, attribute_indices 5.
    const m1 = readFields(fieldsNamed(dict, 1)[1]!.bytes!);
    assert.deepStrictEqual(
      m1.map((f) => f.field),
      [1, 2, 3, 4, 5],
    );
    assert.equal(m1[0]!.varint, 0x40_0000n);
    // Location 3: mapping 1, address 2 (uint64 above 2^63), lines 3, attribute_indices 4.
    const l3 = readFields(fieldsNamed(dict, 2)[3]!.bytes!);
    assert.deepStrictEqual(
      l3.map((f) => f.field),
      [1, 2, 3, 4],
    );
    assert.equal(l3[1]!.varint, KERNEL_ADDRESS);
    // Location 1: two lines; Line = function_index 1, line 2, column 3.
    const l1 = readFields(fieldsNamed(dict, 2)[1]!.bytes!);
    const line0 = readFields(l1.filter((f) => f.field === 3)[0]!.bytes!);
    assert.deepStrictEqual(
      line0.map((f) => [f.field, f.varint]),
      [
        [1, 2n],
        [2, 50n],
        [3, 3n],
      ],
    );
    // Function 1: name 1, system_name 2, filename 3, start_line 4.
    assert.deepStrictEqual(
      readFields(fieldsNamed(dict, 3)[1]!.bytes!).map((f) => f.field),
      [1, 2, 3, 4],
    );
    // Link 1: trace_id 1 (16 bytes), span_id 2 (8 bytes).
    const link = readFields(fieldsNamed(dict, 4)[1]!.bytes!);
    assert.deepStrictEqual([...link[0]!.bytes!], [...TRACE_ID]);
    assert.deepStrictEqual([...link[1]!.bytes!], [...SPAN_ID]);
    // KeyValueAndUnit 7: key 1, value 2, unit 3.
    assert.deepStrictEqual(
      readFields(fieldsNamed(dict, 6)[7]!.bytes!).map((f) => f.field),
      [1, 2, 3],
    );
    // Stack 2: location_indices 1 packed.
    assert.deepStrictEqual(packedVarints(only(fieldsNamed(dict, 7)[2]!.bytes!, 1)), [3n, 1n, 2n]);
  });

  it('resource attributes use the plain key (field 1), never key_strindex (field 3)', () => {
    const resource = only(fieldsNamed(bytes, 1)[0]!.bytes!, 1);
    const kvs = fieldsNamed(resource, 1);
    assert.equal(kvs.length, request.resourceProfiles[0]!.resource!.attributes.length);
    for (const kv of kvs) {
      const fields = readFields(kv.bytes!).map((f) => f.field);
      assert.deepStrictEqual(fields, [1, 2]);
    }
  });
});
