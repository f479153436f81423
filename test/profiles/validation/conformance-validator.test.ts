import { emptyDictionary } from '../../../src/profiles/model/otlp-model.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConformanceOptions } from '../../../src/profiles/validation/conformance-validator.js';
import { assertConforms, validateRequest } from '../../../src/profiles/validation/conformance-validator.js';
import type {
  ExportProfilesServiceRequest,
  Profile,
  Sample,
} from '../../../src/profiles/model/otlp-model.js';
import { completeRequest, T0 } from '../../support/encoding-fixtures.js';

/*
 * Fixture indices used below (see test/support/encoding-fixtures.ts): strings 21 entries (1 build id key,
 * 2 profile.frame.type, 3 thread.id, 4 thread.name, 8 samples, 9 count, 10 cpu, 11 nanoseconds, 12 off_cpu,
 * 13 /usr/bin/app, 15 main, 19 schedule); attributes 8 (2/3 frame types, 4 thread.id, 5 thread.name);
 * mappings 3; locations 4; functions 5; links 2; stacks 3.
 */
const P0 = 'resource_profiles[0].scope_profiles[0].profiles[0]';
const P1 = 'resource_profiles[1].scope_profiles[0].profiles[0]';
const D = 'dictionary';

type Expected = readonly [path: string, message: RegExp];

/** Asserts the validator reports exactly these issues (order-insensitive), nothing more. */
function expectIssues(
  request: ExportProfilesServiceRequest,
  expected: readonly Expected[],
  options?: ConformanceOptions,
): void {
  const issues = validateRequest(request, options);
  const unmatched = [...issues];
  for (const [path, message] of expected) {
    const i = unmatched.findIndex((x) => x.path === path && message.test(x.message));
    assert.ok(
      i >= 0,
      `expected issue ${path}: ${message} in\n${issues.map((x) => `  ${x.path}: ${x.message}`).join('\n')}`,
    );
    unmatched.splice(i, 1);
  }
  assert.deepEqual(unmatched, [], 'unexpected extra issues');
}

function mutate(f: (r: ExportProfilesServiceRequest) => void): ExportProfilesServiceRequest {
  const r = completeRequest();
  f(r);
  return r;
}

const p0 = (r: ExportProfilesServiceRequest): Profile =>
  r.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
const p1 = (r: ExportProfilesServiceRequest): Profile =>
  r.resourceProfiles[1]!.scopeProfiles[0]!.profiles[0]!;
const s00 = (r: ExportProfilesServiceRequest): Sample => p0(r).samples[0]!;
const NO_ORPHANS = { checkOrphans: false } as const;

describe('validateRequest: clean input', () => {
  it('reports nothing for the complete conforming request, with every check on', () => {
    assert.deepEqual(validateRequest(completeRequest()), []);
    assert.doesNotThrow(() => assertConforms(completeRequest()));
  });
});

describe('validateRequest: top level (profcheck)', () => {
  it('empty resource_profiles', () => {
    expectIssues(
      mutate((r) => (r.resourceProfiles = [])),
      [['resource_profiles', /resource profiles are empty/]],
      NO_ORPHANS,
    );
  });
  it('empty scope_profiles', () => {
    expectIssues(
      mutate((r) => (r.resourceProfiles[1]!.scopeProfiles = [])),
      [['resource_profiles[1].scope_profiles', /scope profiles are empty/]],
      NO_ORPHANS,
    );
  });
  it('empty profiles', () => {
    expectIssues(
      mutate((r) => (r.resourceProfiles[1]!.scopeProfiles[0]!.profiles = [])),
      [['resource_profiles[1].scope_profiles[0].profiles', /profiles are empty/]],
      NO_ORPHANS,
    );
  });
  it('missing dictionary is reported, not thrown', () => {
    const r = mutate((x) => ((x as { dictionary?: unknown }).dictionary = undefined));
    const issues = validateRequest(r);
    assert.ok(issues.some((i) => i.path === 'dictionary' && /missing/.test(i.message)));
    assert.ok(
      issues.some(
        (i) => i.path === `${P0}.samples[0].stack_index` && /out of range \[0, 0\)/.test(i.message),
      ),
    );
  });
});

describe('validateRequest: per profile (profcheck)', () => {
  it('profile attribute index out of range', () => {
    expectIssues(
      mutate((r) => p0(r).attributeIndices.push(99)),
      [[`${P0}.attribute_indices[2]`, /index 99 out of range \[0, 8\) of attribute_table/]],
    );
  });
  it('profile attribute whose key string is out of range', () => {
    expectIssues(
      mutate((r) => (r.dictionary.attributeTable[6]!.keyStrindex = 500)),
      [
        [`${P0}.attribute_indices[0]`, /key_strindex 500 out of range/],
        [`${D}.attribute_table[6].key_strindex`, /index 500 out of range \[0, 21\) of string_table/],
        [`${D}.string_table[5]`, /orphaned/],
      ],
    );
  });
  it('duplicate attribute keys within one attribute list', () => {
    // Attributes 2 and 3 both have the key profile.frame.type; attribute 5 loses its only reference.
    expectIssues(
      mutate((r) => (s00(r).attributeIndices = [4, 2, 3])),
      [
        [`${P0}.samples[0].attribute_indices[2]`, /duplicate attribute key "profile.frame.type"/],
        [`${D}.attribute_table[5]`, /orphaned/],
      ],
    );
  });
  it('sample_type and period_type string indices out of range', () => {
    expectIssues(
      mutate((r) => {
        p0(r).sampleType = { typeStrindex: 21, unitStrindex: 9 };
        p0(r).periodType = { typeStrindex: 10, unitStrindex: -1 };
      }),
      [
        [`${P0}.sample_type.type_strindex`, /index 21 out of range \[0, 21\)/],
        [`${P0}.period_type.unit_strindex`, /index -1 out of range/],
        [`${D}.string_table[8]`, /orphaned/], // "samples" was only the sample type
      ],
    );
  });
});

describe('validateRequest: per sample (profcheck)', () => {
  it('stack_index, link_index and attribute index out of range', () => {
    expectIssues(
      mutate((r) => {
        s00(r).stackIndex = 3;
        s00(r).linkIndex = 2;
        s00(r).attributeIndices = [4, 8];
      }),
      [
        [`${P0}.samples[0].stack_index`, /index 3 out of range \[0, 3\) of stack_table/],
        [`${P0}.samples[0].link_index`, /index 2 out of range \[0, 2\) of link_table/],
        [`${P0}.samples[0].attribute_indices[1]`, /index 8 out of range \[0, 8\) of attribute_table/],
        [`${D}.link_table[1]`, /orphaned/],
        [`${D}.attribute_table[5]`, /orphaned/],
        [`${D}.stack_table[1]`, /orphaned/],
      ],
    );
  });
  it('timestamp before time_unix_nano', () => {
    expectIssues(
      mutate((r) => (s00(r).timestampsUnixNano = [T0 - 1n, T0 + 2n])),
      [[`${P0}.samples[0].timestamps_unix_nano[0]`, /outside \[time_unix_nano/]],
    );
  });
  it('timestamp equal to time + duration (the interval is half-open)', () => {
    expectIssues(
      mutate((r) => (s00(r).timestampsUnixNano = [T0 + 1n, T0 + 10_000_000_000n])),
      [[`${P0}.samples[0].timestamps_unix_nano[1]`, /outside/]],
    );
  });
  it('duration 0 makes every timestamp fail', () => {
    expectIssues(
      mutate((r) => (p1(r).durationNano = 0n)),
      [
        [`${P1}.samples[0].timestamps_unix_nano[0]`, /outside/],
        [`${P1}.samples[0].timestamps_unix_nano[1]`, /outside/],
      ],
    );
  });
  it('shape: neither values nor timestamps', () => {
    expectIssues(
      mutate((r) => ((p1(r).samples[0]!.timestampsUnixNano = []), (p1(r).samples[0]!.values = []))),
      [[`${P1}.samples[0]`, /at least one values or timestamps_unix_nano/]],
    );
  });
  it('shape: values and timestamps of different lengths', () => {
    expectIssues(
      mutate((r) => (p1(r).samples[0]!.values = [1n])),
      [[`${P1}.samples[0]`, /values \(1\) and timestamps_unix_nano \(2\) must have the same length/]],
    );
  });
  it('shape: values only must hold exactly one value', () => {
    expectIssues(
      mutate((r) => (p1(r).samples[0]!.timestampsUnixNano = [])),
      [[`${P1}.samples[0].values`, /exactly 1 value, got 2/]],
    );
  });
  it('shape: all samples of a profile share the first sample shape', () => {
    expectIssues(
      mutate((r) => (p0(r).samples[1]!.values = [7n])),
      [[`${P0}.samples[1]`, /shape both differs from .* timestamps_only/]],
    );
  });
  it('checkSampleShapes: false skips shape rules but still checks timestamps', () => {
    const r = mutate((x) => {
      p0(x).samples[1]!.values = [7n, 8n];
      p0(x).samples[1]!.timestampsUnixNano = [];
      s00(x).timestampsUnixNano = [T0 - 1n, T0];
    });
    expectIssues(r, [[`${P0}.samples[0].timestamps_unix_nano[0]`, /outside/]], { checkSampleShapes: false });
  });
});

describe('validateRequest: dictionary tables (profcheck)', () => {
  it('every empty table is reported', () => {
    const r: ExportProfilesServiceRequest = {
      resourceProfiles: [],
      dictionary: emptyDictionary(),
    };
    expectIssues(r, [
      ['resource_profiles', /empty/],
      [`${D}.mapping_table`, /mapping_table is empty/],
      [`${D}.location_table`, /location_table is empty/],
      [`${D}.function_table`, /function_table is empty/],
      [`${D}.link_table`, /link_table is empty/],
      [`${D}.string_table`, /string_table is empty/],
      [`${D}.attribute_table`, /attribute_table is empty/],
      [`${D}.stack_table`, /stack_table is empty/],
    ]);
  });
  it('index 0 that is not the zero value, in every table', () => {
    const r = mutate((x) => {
      const d = x.dictionary;
      d.mappingTable[0]!.fileOffset = 1n;
      d.locationTable[0]!.address = 1n;
      d.functionTable[0]!.startLine = 1n;
      d.stringTable[0] = 'x';
      d.attributeTable[0]!.value = { stringValue: '' };
      d.stackTable[0]!.locationIndices = [1];
    });
    expectIssues(
      r,
      [
        [`${D}.mapping_table[0]`, /zero value Mapping\{\}/],
        [`${D}.location_table[0]`, /zero value Location\{\}/],
        [`${D}.function_table[0]`, /zero value Function\{\}/],
        [`${D}.string_table[0]`, /must be ""/],
        [`${D}.attribute_table[0]`, /zero value KeyValueAndUnit\{\}/],
        [`${D}.stack_table[0]`, /zero value Stack\{\}/],
      ],
      { checkDuplicates: false },
    );
  });
  it('link_table[0] must be exactly Link{}: 16/8 zero bytes are not', () => {
    expectIssues(
      mutate((x) => (x.dictionary.linkTable[0] = { traceId: new Uint8Array(16), spanId: new Uint8Array(8) })),
      [[`${D}.link_table[0]`, /exactly Link\{\}/]],
    );
  });
  it('link ids of the wrong length', () => {
    expectIssues(
      mutate(
        (x) =>
          (x.dictionary.linkTable[1] = {
            traceId: new Uint8Array(15).fill(1),
            spanId: new Uint8Array(7).fill(1),
          }),
      ),
      [
        [`${D}.link_table[1].trace_id`, /16 bytes, got 15/],
        [`${D}.link_table[1].span_id`, /8 bytes, got 7/],
      ],
    );
  });
  it('mapping: filename and attribute index out of range, memory range inverted', () => {
    expectIssues(
      mutate((x) => {
        const m = x.dictionary.mappingTable[1]!;
        m.filenameStrindex = 30;
        m.attributeIndices = [1, 9];
        m.memoryLimit = m.memoryStart;
      }),
      [
        [`${D}.mapping_table[1].filename_strindex`, /index 30 out of range/],
        [`${D}.mapping_table[1].attribute_indices[1]`, /index 9 out of range/],
        [`${D}.mapping_table[1]`, /memory_start 4194304 must be < memory_limit 4194304/],
        [`${D}.string_table[13]`, /orphaned/],
      ],
    );
  });
  it('mapping with start 0 and limit 0 is fine; start > limit is not', () => {
    expectIssues(
      mutate((x) => (x.dictionary.mappingTable[2]!.memoryStart = 5n)),
      [[`${D}.mapping_table[2]`, /memory_start 5 must be < memory_limit 0/]],
    );
  });
  it('location: mapping index, attribute index, line function index out of range; negative line and column', () => {
    expectIssues(
      mutate((x) => {
        const l = x.dictionary.locationTable[3]!;
        l.mappingIndex = 3;
        l.attributeIndices = [3, 8];
        l.lines = [{ functionIndex: 5, line: -1n, column: -2n }];
      }),
      [
        [`${D}.location_table[3].mapping_index`, /index 3 out of range \[0, 3\) of mapping_table/],
        [`${D}.location_table[3].attribute_indices[1]`, /index 8 out of range/],
        [`${D}.location_table[3].lines[0].function_index`, /index 5 out of range \[0, 5\) of function_table/],
        [`${D}.location_table[3].lines[0].line`, /line -1 must be >= 0/],
        [`${D}.location_table[3].lines[0].column`, /column -2 must be >= 0/],
        [`${D}.mapping_table[2]`, /orphaned/],
        [`${D}.function_table[3]`, /orphaned/],
      ],
    );
  });
  it('function: string indices out of range and negative start_line', () => {
    expectIssues(
      mutate((x) => {
        x.dictionary.functionTable[1] = {
          nameStrindex: 21,
          systemNameStrindex: 22,
          filenameStrindex: -1,
          startLine: -5n,
        };
      }),
      [
        [`${D}.function_table[1].name_strindex`, /index 21 out of range/],
        [`${D}.function_table[1].system_name_strindex`, /index 22 out of range/],
        [`${D}.function_table[1].filename_strindex`, /index -1 out of range/],
        [`${D}.function_table[1].start_line`, /start_line -5 must be >= 0/],
        [`${D}.string_table[15]`, /orphaned/],
        [`${D}.string_table[16]`, /orphaned/],
      ],
    );
  });
  it('attribute: key and unit string indices out of range', () => {
    expectIssues(
      mutate((x) => (x.dictionary.attributeTable[7]!.unitStrindex = 21)),
      [
        [`${D}.attribute_table[7].unit_strindex`, /index 21 out of range/],
        [`${D}.string_table[7]`, /orphaned/],
      ],
    );
  });
  it('stack: location index out of range', () => {
    expectIssues(
      mutate((x) => x.dictionary.stackTable[2]!.locationIndices.push(4)),
      [[`${D}.stack_table[2].location_indices[3]`, /index 4 out of range \[0, 4\) of location_table/]],
    );
  });
});

describe('validateRequest: duplicates (profcheck -check-dupes, extended to every table)', () => {
  it('mapping duplicates compare the attribute set, not its order', () => {
    expectIssues(
      mutate((x) => {
        const d = x.dictionary;
        d.mappingTable[1]!.attributeIndices = [1, 4];
        d.mappingTable.push({ ...d.mappingTable[1]!, attributeIndices: [4, 1] });
        d.locationTable[2]!.mappingIndex = 3;
      }),
      [[`${D}.mapping_table[3]`, /duplicate of mapping_table\[1\]/]],
    );
  });
  it('string duplicates', () => {
    expectIssues(
      mutate((x) => {
        x.dictionary.stringTable.push('main');
        x.dictionary.functionTable[3]!.filenameStrindex = 21;
      }),
      [[`${D}.string_table[21]`, /duplicate of string_table\[15\]/]],
    );
  });
  it('function, location, stack, link and attribute duplicates', () => {
    const r = mutate((x) => {
      const d = x.dictionary;
      d.functionTable.push({ ...d.functionTable[3]! }); // 5
      d.locationTable.push({ ...d.locationTable[3]!, lines: [{ functionIndex: 5, line: 0n, column: 0n }] }); // 4: differs by function index
      d.locationTable.push(structuredClone(d.locationTable[2]!)); // 5
      d.stackTable.push({ locationIndices: [4, 5] }); // 3
      d.stackTable.push({ locationIndices: [4, 5] }); // 4
      d.linkTable.push({ traceId: d.linkTable[1]!.traceId.slice(), spanId: d.linkTable[1]!.spanId.slice() }); // 2
      d.attributeTable.push(structuredClone(d.attributeTable[6]!)); // 8
      const extra = p1(x);
      extra.samples.push({
        stackIndex: 3,
        attributeIndices: [8],
        linkIndex: 2,
        values: [1n],
        timestampsUnixNano: [T0 + 1n],
      });
      extra.samples.push({
        stackIndex: 4,
        attributeIndices: [],
        linkIndex: 0,
        values: [1n],
        timestampsUnixNano: [T0 + 2n],
      });
    });
    expectIssues(r, [
      [`${D}.function_table[5]`, /duplicate of function_table\[3\]/],
      [`${D}.location_table[5]`, /duplicate of location_table\[2\]/],
      [`${D}.stack_table[4]`, /duplicate of stack_table\[3\]/],
      [`${D}.link_table[2]`, /duplicate of link_table\[1\]/],
      [`${D}.attribute_table[8]`, /duplicate of attribute_table\[6\]/],
    ]);
  });
  it('attributes differing only in value type or unit are not duplicates', () => {
    const r = mutate((x) => {
      const d = x.dictionary;
      d.attributeTable.push({ keyStrindex: 3, value: { stringValue: '1234' }, unitStrindex: 0 }); // 8 vs 4 (int 1234)
      d.attributeTable.push({ keyStrindex: 6, value: { intValue: 1n << 40n }, unitStrindex: 0 }); // 9 vs 7 (unit By)
      p1(x).samples[0]!.attributeIndices = [8, 9];
    });
    expectIssues(r, []);
  });
  it('checkDuplicates: false disables the duplicate checks', () => {
    const r = mutate((x) => {
      x.dictionary.stringTable.push('main');
      x.dictionary.functionTable[3]!.filenameStrindex = 21;
    });
    expectIssues(r, [], { checkDuplicates: false });
  });
});

describe('validateRequest: orphans (profcheck -check-orphans)', () => {
  it('reports an unreferenced entry in every table (index 0 exempt)', () => {
    const r = mutate((x) => {
      const d = x.dictionary;
      d.mappingTable.push({
        memoryStart: 1n,
        memoryLimit: 2n,
        fileOffset: 0n,
        filenameStrindex: 13,
        attributeIndices: [1],
      });
      d.locationTable.push({ mappingIndex: 1, address: 7n, lines: [], attributeIndices: [2] });
      d.functionTable.push({ nameStrindex: 19, systemNameStrindex: 0, filenameStrindex: 17, startLine: 0n });
      d.linkTable.push({ traceId: new Uint8Array(16).fill(9), spanId: new Uint8Array(8).fill(9) });
      d.stringTable.push('nobody uses me');
      d.attributeTable.push({ keyStrindex: 3, value: { intValue: 99n }, unitStrindex: 0 });
      d.stackTable.push({ locationIndices: [3] });
    });
    expectIssues(r, [
      [`${D}.mapping_table[3]`, /orphaned mapping_table entry/],
      [`${D}.location_table[4]`, /orphaned location_table entry/],
      [`${D}.function_table[5]`, /orphaned function_table entry/],
      [`${D}.link_table[2]`, /orphaned link_table entry/],
      [`${D}.string_table[21]`, /orphaned string_table entry/],
      [`${D}.attribute_table[8]`, /orphaned attribute_table entry/],
      [`${D}.stack_table[3]`, /orphaned stack_table entry/],
    ]);
  });
  it('references from resource/scope attributes (key_strindex, string_value_strindex) do not count', () => {
    const r = mutate((x) => {
      x.dictionary.stringTable.push('service.name', 'svc');
      const resource = x.resourceProfiles[0]!.resource!;
      resource.attributes = [
        ...resource.attributes,
        { key: '', keyStrindex: 21, value: { stringValueStrindex: 22 } },
      ];
    });
    expectIssues(r, [
      [`${D}.string_table[21]`, /orphaned/],
      [`${D}.string_table[22]`, /orphaned/],
    ]);
  });
  it('checkOrphans: false disables the orphan checks', () => {
    expectIssues(
      mutate((x) => x.dictionary.stringTable.push('unused')),
      [],
      { checkOrphans: false },
    );
  });
});

describe('validateRequest: our extra rules', () => {
  it('a non-zero function without any name', () => {
    expectIssues(
      mutate((x) => (x.dictionary.functionTable[3]!.nameStrindex = 0)),
      [
        [`${D}.function_table[3]`, /at least one of name_strindex, system_name_strindex, filename_strindex/],
        [`${D}.function_table[3]`, /duplicate of function_table\[0\]/],
        [`${D}.string_table[19]`, /orphaned/],
      ],
    );
  });
  it('a sample with stack_index 0', () => {
    expectIssues(
      mutate((x) => (p1(x).samples[0]!.stackIndex = 0)),
      [[`${P1}.samples[0].stack_index`, /stack_index 0/]],
    );
  });
  it('a negative sample value (a count of 2^63 or more wrapped on the wire)', () => {
    expectIssues(
      mutate((x) => (p1(x).samples[0]!.values = [-(1n << 63n), 1n << 40n])),
      [[`${P1}.samples[0].values[0]`, /negative value -9223372036854775808/]],
    );
  });
  it('a non-zero location without profile.frame.type', () => {
    expectIssues(
      mutate((x) => (x.dictionary.locationTable[2]!.attributeIndices = [])),
      [[`${D}.location_table[2].attribute_indices`, /no "profile.frame.type" attribute/]],
    );
  });
  it('a profile without samples (empty envelope)', () => {
    expectIssues(
      mutate((x) => (p1(x).samples = [])),
      [[`${P1}.samples`, /no samples/]],
      NO_ORPHANS,
    );
  });
  it('profile_id of the wrong length or all zero', () => {
    expectIssues(
      mutate((x) => (p0(x).profileId = new Uint8Array(8).fill(1))),
      [[`${P0}.profile_id`, /16 bytes, got 8/]],
    );
    expectIssues(
      mutate((x) => (p0(x).profileId = new Uint8Array(16))),
      [[`${P0}.profile_id`, /all-zero/]],
    );
  });
  it('original_payload_format without original_payload', () => {
    expectIssues(
      mutate((x) => delete p1(x).originalPayload),
      [[`${P1}.original_payload_format`, /set together/]],
    );
  });
  it('two samples with the same identity in one profile', () => {
    expectIssues(
      mutate((x) =>
        p0(x).samples.push({
          stackIndex: 2,
          attributeIndices: [4],
          linkIndex: 0,
          values: [],
          timestampsUnixNano: [T0 + 9n],
        }),
      ),
      [[`${P0}.samples[2]`, /same identity as samples\[1\]/]],
    );
  });
  it('index 0 where it is meaningless: stack entries, line functions, attribute lists', () => {
    expectIssues(
      mutate((x) => {
        x.dictionary.stackTable[2]!.locationIndices = [0, 1, 2];
        x.dictionary.locationTable[1]!.lines.push({ functionIndex: 0, line: 0n, column: 0n });
        s00(x).attributeIndices = [4, 5, 0];
      }),
      [
        [`${D}.stack_table[2].location_indices[0]`, /null location/],
        [`${D}.location_table[1].lines[2].function_index`, /null function/],
        [`${P0}.samples[0].attribute_indices[2]`, /null attribute/],
        [`${D}.location_table[3]`, /orphaned/],
      ],
    );
  });
  it('checkExtras: false turns off exactly the extra rules', () => {
    const r = mutate((x) => {
      p1(x).samples[0]!.stackIndex = 0;
      x.dictionary.locationTable[2]!.attributeIndices = [];
    });
    expectIssues(r, [], { checkExtras: false });
  });
});

describe('assertConforms', () => {
  it('throws an Error listing at most 20 issues and how many more there are', () => {
    const r = mutate((x) => {
      for (let i = 0; i < 30; i++) x.dictionary.stringTable.push(`unused-${i}`);
    });
    assert.throws(
      () => assertConforms(r),
      (err: unknown) => {
        assert.ok(err instanceof Error);
        const lines = err.message.split('\n');
        assert.match(lines[0]!, /30 issues/);
        assert.equal(lines.filter((l) => l.includes('dictionary.string_table[')).length, 20);
        assert.match(lines.at(-1)!, /and 10 more/);
        return true;
      },
    );
    assert.doesNotThrow(() => assertConforms(r, { checkOrphans: false }));
  });
});
