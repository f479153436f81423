import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResourceConfig } from '../../../src/config/exporter-config.js';
import type { FieldRecord, FieldValue, GadgetRow } from '../../../src/rows/gadget-row.js';
import { gadgetRow, getField, rowFields } from '../../../src/rows/gadget-row.js';
import { compileRowDecoder } from '../../../src/gadget-bridge/grpc/field-decoder.js';
import type { DataSource } from '../../../src/gadget-bridge/grpc/gadget-messages.js';
import { decodeGadgetDataArray, encodeGadgetDataArray } from '../../../src/gadget-bridge/grpc/gadget-api.js';
import { profileSpecFromDataSource } from '../../../src/gadget-bridge/grpc/profile-spec-from-gadget-info.js';
import type { ProfileSpec } from '../../../src/rows/profile-spec.js';
import { Counters } from '../../../src/observability/counters.js';
import { pipelineFieldsRead } from '../../../src/profiles/aggregation/fields-read.js';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import { generateRequest } from '../../../src/profiles/request/request-generator.js';
import { ResourceResolver } from '../../../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../../../src/profiles/aggregation/sample-aggregator.js';
import { readIgExampleEmissions } from '../../support/ig-json.js';
import type { ProfileCpuLayoutOptions } from '../../support/ig-profile-cpu-layout.js';
import { profileCpuGadgetInfo } from '../../support/ig-profile-cpu-layout.js';
import { encodeRow } from '../../support/ig-row-encoder.js';
import { DEFAULT_RESOURCE_CONFIG } from '../../support/profiles-fixtures.js';

/**
 * The IG examples, plus one fetch where a process's worker thread (its own comm) comes before its
 * main thread: the resource's executable name is the main thread's comm.
 */
const emissions = ((): GadgetRow[][] => {
  const examples = readIgExampleEmissions();
  const base = examples.flat()[0]!;
  const proc = getField(base, 'proc') as FieldRecord & { pid: number };
  const thread = (tid: number, comm: string): GadgetRow =>
    gadgetRow({ ...rowFields(base), proc: { ...proc, tid, comm } });
  return [...examples, [thread(proc.pid + 1, 'worker-thread'), thread(proc.pid, 'main-thread')]];
})();

/** The example rows in IG's binary layout, decoded by the full decoder and by a projection. */
function decodeBoth(
  layout: ProfileCpuLayoutOptions,
  fields: (ds: DataSource) => ReadonlySet<string>,
): { full: GadgetRow[][]; projected: GadgetRow[][]; ds: DataSource } {
  const ds = profileCpuGadgetInfo(layout).dataSources.find((d) => d.name === 'samples')!;
  const full = compileRowDecoder(ds);
  const projected = compileRowDecoder(ds, fields(ds));
  const payloads = emissions.map((rows) =>
    encodeGadgetDataArray({
      node: '',
      seq: 0,
      dataArray: rows.map((r) =>
        encodeRow(ds, r, (n) => (n === 'user_stack_id' ? getField(r, 'user_stack_raw.stack_id') : undefined)),
      ),
    }),
  );
  return {
    full: payloads.map((p) => decodeGadgetDataArray(p).dataArray.map(full)),
    projected: payloads.map((p) => decodeGadgetDataArray(p).dataArray.map(projected)),
    ds,
  };
}

/** `row` cut down to the dotted names in `keep` (and what lies under them), nesting kept. */
function pick(row: FieldRecord, keep: ReadonlySet<string>, prefix = ''): FieldRecord {
  const out: Record<string, FieldValue> = {};
  for (const [key, value] of Object.entries(row)) {
    const name = prefix + key;
    if (keep.has(name)) out[key] = value;
    else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inner = pick(value, keep, `${name}.`);
      if (Object.keys(inner).length > 0) out[key] = inner;
    }
  }
  return out;
}

function withoutProfileIds(request: ExportProfilesServiceRequest | undefined): unknown {
  return request?.resourceProfiles.map((r) => ({
    ...r,
    scopeProfiles: r.scopeProfiles.map((s) => ({
      ...s,
      profiles: s.profiles.map((p) => ({ ...p, profileId: undefined })),
    })),
  }));
}

function requestOf(
  rows: readonly GadgetRow[],
  spec: ProfileSpec,
  config: ResourceConfig,
): ExportProfilesServiceRequest | undefined {
  const resources = new ResourceResolver({ config });
  const aggregator = new SampleAggregator({ resources, counters: new Counters(), exporter: 't' });
  aggregator.add({ spec, rows, windowStartUnixNano: 1n, windowEndUnixNano: 2n, origin: 'test' });
  return generateRequest(aggregator.drain(), { resources, sampleMerge: 'flush' });
}

describe('row decoder projection (only the fields the pipeline reads)', () => {
  for (const [name, layout] of [
    ['IG layout', {}],
    ['reordered, big-endian', { reorderSlots: true, bigEndian: true }],
  ] as const) {
    it(`gives each selected field exactly as the full decoder does, and nothing else (${name})`, () => {
      // A struct (user_stack_raw) brings all of its members; an unknown name is ignored.
      const keep = new Set([
        'proc.pid',
        'k8s.node',
        'user_stack_raw',
        'runtime.containerName',
        'no.such.field',
      ]);
      const { full, projected } = decodeBoth(layout, () => keep);
      let rows = 0;
      full.forEach((fetch, i) =>
        fetch.forEach((row, j) => {
          assert.deepStrictEqual(projected[i]![j], pick(rowFields(row), keep), `fetch ${i} row ${j}`);
          rows++;
        }),
      );
      assert.ok(rows > 0);
      assert.ok(
        Object.keys((getField(projected[0]![0]!, 'user_stack_raw') as FieldRecord) ?? {}).length > 3,
        'struct members',
      );
    });
  }

  const info = profileCpuGadgetInfo();
  const annotated = profileSpecFromDataSource(
    info,
    info.dataSources.find((d) => d.name === 'samples')!,
  );
  assert.ok(annotated);
  const specs: [string, ProfileSpec][] = [
    ['annotations', annotated],
    [
      'more sample attributes',
      { ...annotated, sampleAttributeFields: ['proc.comm', 'k8s.podName', 'proc.tid'] },
    ],
    // Fields nothing else reads: only the spec brings them into the projection.
    [
      'attributes read by nothing else',
      { ...annotated, sampleAttributeFields: ['proc.mntns_id', 'proc.creds.uid'] },
    ],
  ];
  const configs: [string, ResourceConfig][] = [
    ['defaults', DEFAULT_RESOURCE_CONFIG],
    ['per container', { ...DEFAULT_RESOURCE_CONFIG, groupBy: 'container' }],
    [
      'service name from a field',
      { ...DEFAULT_RESOURCE_CONFIG, serviceName: ['field:proc.parent.comm', 'label:team', 'owner'] },
    ],
  ];
  for (const [specName, spec] of specs) {
    for (const [configName, config] of configs) {
      it(`rows decoded with pipelineFieldsRead give the requests full rows give (${specName}, ${configName})`, () => {
        const { full, projected } = decodeBoth({}, () => pipelineFieldsRead(spec, [config]));
        let requests = 0;
        full.forEach((rows, i) => {
          const want = requestOf(rows, spec, config);
          const got = requestOf(projected[i]!, spec, config);
          assert.deepEqual(withoutProfileIds(got), withoutProfileIds(want), `fetch ${i}`);
          assert.deepEqual(got?.dictionary, want?.dictionary, `fetch ${i} dictionary`);
          if (want) requests++;
        });
        assert.ok(requests > 0, 'the examples make requests');
      });
    }
  }
});
