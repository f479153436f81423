import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { GadgetRow } from '../../src/gadget-bridge/gadget-row.js';
import { PROFILE_CPU_SPEC } from '../../src/gadget-bridge/profile-presets.js';
import type { RowBatch } from '../../src/gadget-bridge/row-batch.js';
import { Counters } from '../../src/observability/counters.js';
import { ResourceResolver } from '../../src/profiles/resource-attributes.js';
import { SampleAggregator } from '../../src/profiles/sample-aggregator.js';
import { batchOf, DEFAULT_RESOURCE_CONFIG, exampleEmissions } from '../support/profiles-fixtures.js';

const T0 = 1_763_800_000_000_000_000n;
const SECOND = 1_000_000_000n;

/** Every sample the batches aggregate to: where it is, and its value per fetch (by timestamp). */
function aggregate(batches: readonly RowBatch[]): string[] {
  const resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
  const agg = new SampleAggregator({ resources, counters: new Counters(), exporter: 't' });
  for (const b of batches) agg.add(b);
  const out: string[] = [];
  for (const [resource, entry] of agg.drain().resources) {
    for (const [profile, p] of entry.profiles) {
      for (const [sample, s] of p.samples) {
        // Per-fetch values in fetch order: interleaved parts may add a sample's fetches in any order.
        const perFetch = s.values.map((v, i) => `${s.timestamps[i]}:${v}`).sort();
        out.push(`${resource}|${profile}|${sample}|${perFetch.join(',')}`);
      }
    }
  }
  return out.sort();
}

/** `rows` cut into parts of `size`, each a batch of the same fetch (one shared object, one window). */
function parts(rows: readonly GadgetRow[], size: number, start: bigint): RowBatch[] {
  const fetch = {};
  const out: RowBatch[] = [];
  for (let i = 0; i < rows.length; i += size) {
    out.push({ ...batchOf(PROFILE_CPU_SPEC, rows.slice(i, i + size), start, start + SECOND), fetch });
  }
  return out;
}

describe('a fetch delivered in parts', () => {
  // Every example row four times over: each sample gets several rows within one fetch.
  const rows = exampleEmissions().flat();
  const fetchRows = [...rows, ...rows, ...rows, ...rows];

  it('aggregates like the whole fetch: one value and one timestamp per sample and fetch', () => {
    const whole = aggregate([
      batchOf(PROFILE_CPU_SPEC, fetchRows, T0, T0 + SECOND),
      batchOf(PROFILE_CPU_SPEC, fetchRows, T0 + SECOND, T0 + 2n * SECOND),
    ]);
    const inParts = aggregate([...parts(fetchRows, 3, T0), ...parts(fetchRows, 5, T0 + SECOND)]);
    assert.deepEqual(inParts, whole);
    assert.ok(
      whole.some((s) => s.split('|')[3]!.split(',').length === 2),
      'samples span both fetches',
    );
  });

  it('keeps interleaved parts of two fetches (two nodes) apart', () => {
    const a = parts(fetchRows, 4, T0);
    const b = parts(fetchRows, 4, T0 + SECOND);
    const interleaved: RowBatch[] = [];
    // b's parts first, then each of a's before the next of b's: samples first seen in either.
    for (let i = 0; i < a.length; i++) interleaved.push(b[i]!, a[i]!);
    assert.deepEqual(
      aggregate(interleaved),
      aggregate([
        batchOf(PROFILE_CPU_SPEC, fetchRows, T0, T0 + SECOND),
        batchOf(PROFILE_CPU_SPEC, fetchRows, T0 + SECOND, T0 + 2n * SECOND),
      ]),
    );
  });

  it('batches without a fetch object stay separate fetches, as before', () => {
    const separate = aggregate([
      batchOf(PROFILE_CPU_SPEC, rows, T0, T0 + SECOND),
      batchOf(PROFILE_CPU_SPEC, rows, T0, T0 + SECOND),
    ]);
    assert.ok(separate.every((s) => s.split('|')[3]!.split(',').length === 2));
  });
});
