import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { INT64_MAX } from '../../src/profiles/model/int64.js';
import type { SampleRows } from '../../src/store/request-rows.js';
import { resolveRequestRows } from '../../src/store/request-rows.js';
import { StoreDictionary } from '../../src/store/store-dictionary.js';
import { cloneRequest } from '../support/encoding-fixtures.js';
import { captureRequests, expectedSamples } from './store-fixtures.js';

const ALL = (): boolean => true;

/** Frame names root-first of a node, read back up the store's tree. */
function nodePath(dict: StoreDictionary, node: number): string {
  const names: string[] = [];
  for (let n = node; n > 0; n = dict.nodeParent[n]!) names.push(dict.frames[dict.nodeFrame[n]!]!.name);
  return names.reverse().join(';');
}

function labelsText(pairs: Iterable<readonly [string, string]>): string {
  return JSON.stringify([...new Map(pairs)].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}

/** Value per (time, stack path, every label) of stored rows, read back through the dictionary. */
function storedSums(dict: StoreDictionary, rows: readonly SampleRows[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const r of rows)
    for (let i = 0; i < r.count; i++) {
      const labels = [...dict.series[r.series[i]!]!.labels, ...dict.attributeSets[r.attrs[i]!]!];
      const key = `${r.time[i]}|${nodePath(dict, r.node[i]!)}|${labelsText(labels)}`;
      sums.set(key, (sums.get(key) ?? 0n) + r.value[i]!);
    }
  return sums;
}

function expectedSums(requests: readonly ExportProfilesServiceRequest[]): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const s of expectedSamples(requests)) {
    const key = `${s.time}|${s.path}|${labelsText(s.labels)}`;
    sums.set(key, (sums.get(key) ?? 0n) + s.value);
  }
  return sums;
}

function isSortedByTime(r: SampleRows): boolean {
  for (let i = 1; i < r.count; i++) if (r.time[i - 1]! > r.time[i]!) return false;
  return true;
}

describe('request rows', () => {
  it('every sample lands on its stack, series and attributes, across requests sharing stacks', () => {
    const requests = captureRequests(2);
    assert.ok(requests.length >= 3);
    const dict = new StoreDictionary();
    const rows = requests.map((r) => resolveRequestRows(r, dict, ALL));
    assert.deepEqual(storedSums(dict, rows), expectedSums(requests));
    for (const r of rows) assert.ok(isSortedByTime(r), 'rows come out in time order');
    // The same requests again resolve to the same nodes and series (remembered stacks and spellings).
    const nodes = dict.nodeCount;
    const again = requests.map((r) => resolveRequestRows(r, dict, ALL));
    assert.equal(dict.nodeCount, nodes, 'known stacks add no node');
    assert.deepEqual(
      again.map((r) => [...r.node]),
      rows.map((r) => [...r.node]),
    );
    assert.deepEqual(
      again.map((r) => [...r.series]),
      rows.map((r) => [...r.series]),
    );
  });

  it('after a rollback, remembered stacks are resolved again into the rebuilt tree', () => {
    const requests = captureRequests(2);
    const dict = new StoreDictionary();
    const first = resolveRequestRows(requests[0]!, dict, ALL);
    const mark = dict.mark();
    // A request whose commit fails: its new nodes and series are forgotten...
    resolveRequestRows(requests[1]!, dict, ALL);
    dict.rollback(mark);
    // ...and different stacks take their ids, before the failed request comes back.
    const other = cloneRequest(requests[2]!);
    const rows = [first, resolveRequestRows(other, dict, ALL), resolveRequestRows(requests[1]!, dict, ALL)];
    assert.deepEqual(storedSums(dict, rows), expectedSums([requests[0]!, other, requests[1]!]));
  });

  it('sums rows of one key, and keeps them apart when the sum would not fit int64', () => {
    const base = captureRequests(1)[0]!;
    // The same resource twice: one series, so every sample of the copy meets its original.
    const doubled = cloneRequest(base);
    doubled.resourceProfiles.push(...cloneRequest(base).resourceProfiles);
    const samples = expectedSamples([base]).length;
    const dict = new StoreDictionary();
    const merged = resolveRequestRows(doubled, dict, ALL);
    const single = resolveRequestRows(base, dict, ALL);
    assert.equal(merged.count, single.count);
    for (let i = 0; i < single.count; i++) assert.equal(merged.value[i], single.value[i]! * 2n);
    assert.ok(single.count <= samples);

    const huge = cloneRequest(doubled);
    for (const rp of huge.resourceProfiles)
      for (const sp of rp.scopeProfiles)
        for (const p of sp.profiles) for (const s of p.samples) s.values = s.values.map(() => INT64_MAX - 1n);
    const apart = resolveRequestRows(huge, dict, ALL);
    assert.equal(apart.count, 2 * single.count, 'no row holds more than int64');
    for (const v of apart.value) assert.equal(v, INT64_MAX - 1n);
  });

  it('resources spelt in another attribute order share a series; ones that only concatenate alike do not', () => {
    const base = captureRequests(1)[0]!;
    const dict = new StoreDictionary();
    const original = resolveRequestRows(base, dict, ALL);
    const reordered = cloneRequest(base);
    for (const rp of reordered.resourceProfiles)
      rp.resource = { attributes: [...(rp.resource?.attributes ?? [])].reverse() };
    const again = resolveRequestRows(reordered, dict, ALL);
    assert.deepEqual([...again.series], [...original.series]);

    const seriesOfResource = (attributes: [string, string][]): number => {
      const r = cloneRequest(base);
      r.resourceProfiles = [r.resourceProfiles[0]!];
      r.resourceProfiles[0]!.resource = {
        attributes: attributes.map(([key, v]) => ({ key, value: { stringValue: v } })),
      };
      return resolveRequestRows(r, dict, ALL).series[0]!;
    };
    const a = seriesOfResource([['a', 'x,b=y']]);
    const b = seriesOfResource([
      ['a', 'x'],
      ['b', 'y'],
    ]);
    assert.notEqual(a, b);
    assert.deepEqual(dict.series[a]!.labels, [['a', 'x,b=y']]);
    assert.deepEqual(dict.series[b]!.labels, [
      ['a', 'x'],
      ['b', 'y'],
    ]);
  });
});
