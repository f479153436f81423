import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_CPU_SPEC, PROFILE_CUDA_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import type { GadgetRow } from '../../../src/rows/gadget-row.js';
import { gadgetRow, getField, getInteger, getString } from '../../../src/rows/gadget-row.js';
import { Counters } from '../../../src/observability/counters.js';
import type { ExportProfilesServiceRequest, Profile } from '../../../src/profiles/model/otlp-model.js';
import { generateRequest } from '../../../src/profiles/request/request-generator.js';
import { ResourceResolver } from '../../../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../../../src/profiles/aggregation/sample-aggregator.js';
import { NO_STACK_PLACEHOLDER } from '../../../src/profiles/aggregation/stack-frames.js';
import { assertConforms } from '../../../src/profiles/validation/conformance-validator.js';
import {
  batchOf,
  DEFAULT_RESOURCE_CONFIG,
  exampleEmissions,
  rowWith,
} from '../../support/profiles-fixtures.js';

const T0 = 1_763_800_000_000_000_000n;
const SECOND = 1_000_000_000n;

function aggregate(
  emissions: readonly (readonly GadgetRow[])[],
  merge: 'flush' | 'per-fetch' | 'identity' = 'flush',
  spec = PROFILE_CPU_SPEC,
): { request: ExportProfilesServiceRequest; counters: Counters } {
  const counters = new Counters();
  const resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
  const agg = new SampleAggregator({ resources, counters, exporter: 't' });
  emissions.forEach((rows, i) =>
    agg.add(batchOf(spec, rows, T0 + BigInt(i) * SECOND, T0 + BigInt(i + 1) * SECOND)),
  );
  const request = generateRequest(agg.drain(), { resources, sampleMerge: merge });
  assert.ok(request, 'a non-empty input yields a request');
  return { request, counters };
}

function profiles(request: ExportProfilesServiceRequest): Profile[] {
  return request.resourceProfiles.flatMap((r) => r.scopeProfiles.flatMap((s) => s.profiles));
}

/** Frame names of a sample's stack as the test reads them back (independent of the generator's keys). */
function stackNames(request: ExportProfilesServiceRequest, stackIndex: number): string[] {
  const d = request.dictionary;
  return (d.stackTable[stackIndex]?.locationIndices ?? []).map((li) => {
    const loc = d.locationTable[li];
    const fn = loc?.lines[0] ? d.functionTable[loc.lines[0].functionIndex] : undefined;
    return fn ? (d.stringTable[fn.nameStrindex] ?? '?') : '?';
  });
}

/** The same stack from the raw row, with unresolved frames as '?'. */
function rawNames(row: GadgetRow): string[] {
  const kern = getString(row, 'kern_stack').split('; ').filter(Boolean);
  const user = getString(row, 'user_stack_raw.symbols')
    .split('; ')
    .filter(Boolean)
    .map((s) => (/^0x[0-9a-f]+$/i.test(s) || /\+0x[0-9a-f]+$/i.test(s) ? '?' : s));
  const all = [...kern, ...user];
  return all.length ? all : [NO_STACK_PLACEHOLDER];
}

describe('aggregate + generate over the example capture', () => {
  const emissions = exampleEmissions();

  it('produces a conforming request (every profcheck rule, duplicates and orphans included)', () => {
    const { request } = aggregate(emissions);
    assertConforms(request);
  });

  it('total value out equals total value in, and per-stack totals agree', () => {
    const { request } = aggregate(emissions);
    const expected = new Map<string, bigint>();
    let totalIn = 0n;
    for (const row of emissions.flat()) {
      const v = getInteger(row, 'samples')!;
      totalIn += v;
      const k = rawNames(row).join(';');
      expected.set(k, (expected.get(k) ?? 0n) + v);
    }
    const actual = new Map<string, bigint>();
    let totalOut = 0n;
    for (const p of profiles(request)) {
      for (const s of p.samples) {
        const v = s.values.reduce((a, b) => a + b, 0n);
        totalOut += v;
        const k = stackNames(request, s.stackIndex).join(';');
        actual.set(k, (actual.get(k) ?? 0n) + v);
      }
    }
    assert.equal(totalOut, totalIn);
    assert.deepEqual([...actual].sort(), [...expected].sort());
  });

  it('merges rows that differ only in kernel_ip', () => {
    const first = emissions[0] ?? [];
    const stack = first[0] && getField(first[0], 'kern_stack');
    const sameStack = first.filter((r) => getField(r, 'kern_stack') === stack);
    assert.ok(
      sameStack.length >= 2 && getField(sameStack[0]!, 'kernel_ip') !== getField(sameStack[1]!, 'kernel_ip'),
      'fixture has the kernel_ip split',
    );
    const { request } = aggregate([sameStack]);
    const samples = profiles(request).flatMap((p) => p.samples);
    assert.equal(samples.length, 1);
    assert.equal(
      samples[0]?.values[0],
      sameStack.reduce((a, r) => a + getInteger(r, 'samples')!, 0n),
    );
  });

  it('keeps and counts rows that carry no frame at all under a named placeholder', () => {
    const { request, counters } = aggregate(emissions);
    const withoutFrames = emissions.flat().filter((r) => rawNames(r)[0] === NO_STACK_PLACEHOLDER);
    assert.ok(withoutFrames.length > 0, 'fixture has a user-mode row without user stack');
    assert.ok(request.dictionary.stringTable.includes(NO_STACK_PLACEHOLDER));
    assert.equal(counters.total('rows_without_frames'), withoutFrames.length);
  });

  it('sets CPU profile semantics, the real window and timestamps inside it', () => {
    const { request } = aggregate(emissions);
    const str = (i: number): string => request.dictionary.stringTable[i] ?? '';
    for (const p of profiles(request)) {
      assert.equal(
        `${str(p.sampleType?.typeStrindex ?? 0)}/${str(p.sampleType?.unitStrindex ?? 0)}`,
        'samples/count',
      );
      assert.equal(
        `${str(p.periodType?.typeStrindex ?? 0)}/${str(p.periodType?.unitStrindex ?? 0)}`,
        'cpu/nanoseconds',
      );
      assert.equal(p.period, 20408163n);
      assert.ok(p.timeUnixNano >= T0 && p.durationNano > 0n);
      for (const s of p.samples) {
        for (const ts of s.timestampsUnixNano)
          assert.ok(ts >= p.timeUnixNano && ts < p.timeUnixNano + p.durationNano);
      }
    }
  });

  it('every stack is stored once: equal location sequences share one stack index', () => {
    const { request } = aggregate([emissions[0] ?? [], emissions[0] ?? []]);
    const keys = request.dictionary.stackTable.map((s) => s.locationIndices.join(','));
    assert.equal(new Set(keys).size, keys.length);
  });

  it('sample shapes: flush merges per identity; per-fetch keeps fetches apart; identity appends per fetch', () => {
    const twice = [emissions[0] ?? [], emissions[0] ?? []];
    const flush = aggregate(twice, 'flush').request;
    assertConforms(flush);
    const flushSamples = profiles(flush).flatMap((p) => p.samples);
    const perFetch = profiles(aggregate(twice, 'per-fetch').request).flatMap((p) => p.samples);
    const identity = profiles(aggregate(twice, 'identity').request).flatMap((p) => p.samples);
    assert.equal(perFetch.length, identity.length * 2);
    assert.equal(flushSamples.length, identity.length);
    for (const s of perFetch) assert.equal(s.values.length, 1);
    for (const s of identity) {
      assert.equal(s.values.length, 2);
      assert.deepEqual(s.timestampsUnixNano, [T0, T0 + SECOND]);
    }
    for (const [i, s] of flushSamples.entries()) {
      assert.deepEqual(s.timestampsUnixNano, [T0], 'stamped with the first fetch');
      assert.equal(
        s.values[0],
        (identity[i]?.values ?? []).reduce((a, b) => a + b, 0n),
        'the total of the fetches',
      );
    }
  });

  it('build ids become mapping attributes and every location carries profile.frame.type', () => {
    const { request } = aggregate([emissions[2] ?? []]);
    const d = request.dictionary;
    const buildIdKey = d.stringTable.indexOf('process.executable.build_id.gnu');
    assert.ok(buildIdKey > 0);
    const mappingsWithBuildId = d.mappingTable.filter((m) =>
      m.attributeIndices.some((a) => d.attributeTable[a]?.keyStrindex === buildIdKey),
    );
    assert.equal(mappingsWithBuildId.length, 2, 'two distinct build ids in the burner example');
    const frameType = d.stringTable.indexOf('profile.frame.type');
    for (const loc of d.locationTable.slice(1)) {
      assert.ok(loc.attributeIndices.some((a) => d.attributeTable[a]?.keyStrindex === frameType));
    }
  });

  it('emits deduplicated links when the datasource carries trace and span ids', () => {
    const spec = { ...PROFILE_CPU_SPEC, traceIdField: 'trace_id', spanIdField: 'span_id' };
    const base = emissions[0]![0]!;
    const trace = '0af7651916cd43dd8448eb211c80319c';
    const rows = [
      rowWith(base, { trace_id: trace, span_id: 'b7ad6b7169203331' }),
      rowWith(base, { trace_id: trace, span_id: 'b7ad6b7169203331', kernel_ip: 1 }),
      rowWith(base, { trace_id: trace, span_id: '00f067aa0ba902b7' }),
      rowWith(base, { trace_id: '', span_id: '' }),
    ];
    const { request } = aggregate([rows], 'per-fetch', spec);
    assertConforms(request);
    assert.equal(request.dictionary.linkTable.length, 3, 'Link{} plus two distinct links');
    const samples = profiles(request).flatMap((p) => p.samples);
    assert.deepEqual(samples.map((s) => s.linkIndex).sort(), [0, 1, 2]);
  });

  it('groups by field values whatever carries them: fresh copies, arrays by content, 5 and "5" alike, across batches', () => {
    const spec = { ...PROFILE_CPU_SPEC, sampleAttributeFields: ['tags', 'slot'] };
    const base = emissions[0]![0]!;
    const copy = (s: unknown): string => [...String(s)].join('');
    const userStack = getField(base, 'user_stack_raw') as Record<string, string>;
    const rows = (slot: number | string, tags: number[]): GadgetRow[] => [
      rowWith(base, { slot, tags }),
      // Fresh string objects with the same text, as JSON.parse hands them over.
      rowWith(base, {
        slot,
        tags: [...tags],
        kern_stack: copy(getField(base, 'kern_stack')),
        user_stack_raw: { ...userStack, symbols: copy(userStack.symbols) },
        k8s: {
          ...(getField(base, 'k8s') as Record<string, string>),
          node: copy(getField(base, 'k8s.node')),
        },
      }),
    ];
    const { request } = aggregate(
      [
        [...rows(5, [1, 2]), ...rows('5', [1, 2])],
        [...rows(5, [1, 2]), ...rows(5, [1, 3])],
      ],
      'identity',
      spec,
    );
    assertConforms(request);
    const samples = profiles(request).flatMap((p) => p.samples);
    assert.equal(request.resourceProfiles.length, 1, 'one resource for all rows');
    // [1,2] (both batches) and [1,3] (second batch only): two samples, with per-fetch values.
    assert.equal(samples.length, 2);
    const perRow = Number(getField(base, 'samples'));
    assert.deepEqual(
      samples.map((s) => s.values.map(Number)).sort(),
      [[4 * perRow, 2 * perRow], [2 * perRow]].sort(),
    );
  });

  it('an aggregator that has seen earlier flushes builds the same requests as a fresh one', () => {
    // What the aggregator and resolver remember across flushes (parsed stacks, string ids,
    // attribute lists) must never show in the output: flush by flush, a long-lived pipeline and a
    // fresh one per flush agree (profile ids, which are random, aside).
    const spec = { ...PROFILE_CPU_SPEC, sampleAttributeFields: ['runtime.containerName', 'proc.comm'] };
    const withoutIds = (request: ExportProfilesServiceRequest): unknown =>
      request.resourceProfiles.map((r) => ({
        ...r,
        scopeProfiles: r.scopeProfiles.map((sp) => ({
          ...sp,
          profiles: sp.profiles.map((p) => ({ ...p, profileId: undefined })),
        })),
      }));
    for (const config of [
      DEFAULT_RESOURCE_CONFIG,
      { ...DEFAULT_RESOURCE_CONFIG, groupBy: 'container' as const },
    ]) {
      const resources = new ResourceResolver({ config });
      const longLived = new SampleAggregator({ resources, counters: new Counters(), exporter: 't' });
      // Every emission twice, then again in reverse order: later flushes hit what earlier ones cached.
      const flushes = [...emissions, ...emissions, ...[...emissions].reverse()];
      flushes.forEach((rows, i) => {
        const batch = batchOf(spec, rows, T0 + BigInt(i) * SECOND, T0 + BigInt(i + 1) * SECOND);
        longLived.add(batch);
        const fresh = new SampleAggregator({
          resources: new ResourceResolver({ config }),
          counters: new Counters(),
          exporter: 't',
        });
        fresh.add(batch);
        const got = generateRequest(longLived.drain(), { resources, sampleMerge: 'per-fetch' });
        const want = generateRequest(fresh.drain(), {
          resources: new ResourceResolver({ config }),
          sampleMerge: 'per-fetch',
        });
        assert.equal(got === undefined, want === undefined, `flush ${i}`);
        if (got && want) {
          assert.deepEqual(withoutIds(got), withoutIds(want), `flush ${i} (${config.groupBy})`);
          assert.deepEqual(got.dictionary, want.dictionary, `flush ${i} dictionary`);
        }
      });
    }
  });

  it('profile_cuda: bytes allocated per user stack become a malloc/bytes profile named like IG names it', () => {
    const base = emissions[2]![0]!;
    const alloc = (symbols: string, count: number): GadgetRow =>
      gadgetRow({
        count,
        proc: getField(base, 'proc') ?? null,
        runtime: getField(base, 'runtime') ?? null,
        k8s: getField(base, 'k8s') ?? null,
        ustack_raw: { addresses: '', buildid: '', symbols },
      });
    const rows = [
      alloc('cuMemAlloc_v2; cudaMalloc; train_step; main; ', 4096),
      alloc('cuMemAlloc_v2; cudaMalloc; train_step; main; ', 1024),
      alloc('cuMemAllocManaged; load_weights; main; ', 65536),
    ];
    const { request } = aggregate([rows], 'flush', PROFILE_CUDA_SPEC);
    assertConforms(request);
    const str = (i: number): string => request.dictionary.stringTable[i] ?? '';
    const [p] = profiles(request);
    assert.ok(p);
    assert.equal(
      `${str(p.sampleType?.typeStrindex ?? 0)}/${str(p.sampleType?.unitStrindex ?? 0)}`,
      'malloc/bytes',
    );
    assert.equal(
      `${str(p.periodType?.typeStrindex ?? 0)}/${str(p.periodType?.unitStrindex ?? 0)}`,
      'process_cuda/bytes',
    );
    const byLeaf = new Map(p.samples.map((s) => [stackNames(request, s.stackIndex)[0], s.values[0]]));
    assert.deepEqual(Object.fromEntries(byLeaf), { cuMemAlloc_v2: 5120n, cuMemAllocManaged: 65536n });
  });
});

describe('sample values past 2^53 and int64', () => {
  const row = exampleEmissions()[0]![0]!;
  const INT64_MAX = (1n << 63n) - 1n;
  const values = (request: ExportProfilesServiceRequest): bigint[] =>
    profiles(request).flatMap((p) => p.samples.flatMap((s) => s.values));

  it('a value past 2^53 that fits int64 is exact, as bigint or as a float literal', () => {
    const big = (1n << 62n) + 1n;
    const { request } = aggregate(
      [[rowWith(row, { samples: big })], [rowWith(row, { samples: 1e18 })]],
      'per-fetch',
    );
    assert.deepEqual(values(request), [big, 1_000_000_000_000_000_000n]);
  });

  it('2^63, 2^64 and 1e19 are dropped as value_out_of_range, never wrapped', () => {
    const { request, counters } = aggregate(
      [
        [
          rowWith(row, { samples: 1n << 63n }),
          rowWith(row, { samples: 1n << 64n }),
          rowWith(row, { samples: 1e19 }),
          row,
        ],
      ],
      'flush',
    );
    assert.deepEqual(values(request), [getInteger(row, 'samples')!]);
    assert.equal(counters.get('rows_dropped', { exporter: 't', reason: 'value_out_of_range' }), 3);
  });

  for (const merge of ['flush', 'per-fetch', 'identity'] as const) {
    it(`${merge}: rows summing past int64 go on in another value, each within int64, the total exact`, () => {
      const each = INT64_MAX / 2n + 1n;
      const { request, counters } = aggregate(
        [
          [rowWith(row, { samples: each }), rowWith(row, { samples: each })],
          [rowWith(row, { samples: each })],
        ],
        merge,
      );
      const out = values(request);
      assert.ok(
        out.every((v) => v > 0n && v <= INT64_MAX),
        out.join(', '),
      );
      assert.equal(
        out.reduce((a, b) => a + b, 0n),
        3n * each,
      );
      assert.equal(counters.total('rows_dropped'), 0);
    });
  }
});
