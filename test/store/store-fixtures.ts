import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PROFILE_CPU_SPEC } from '../../src/gadget-bridge/profile-presets.js';
import type { GadgetRow } from '../../src/rows/gadget-row.js';
import { Counters } from '../../src/observability/counters.js';
import type {
  ExportProfilesServiceRequest,
  ProfilesDictionary,
} from '../../src/profiles/model/otlp-model.js';
import { anyValueText } from '../../src/profiles/pprof/otlp-to-pprof.js';
import { generateRequest } from '../../src/profiles/request/request-generator.js';
import { ResourceResolver } from '../../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../../src/profiles/aggregation/sample-aggregator.js';
import type { FlameTree, Selection } from '../../src/store/profile-store.js';
import {
  batchOf,
  BUNDLED_CAPTURE_PATH,
  DEFAULT_RESOURCE_CONFIG,
  exampleEmissions,
} from '../support/profiles-fixtures.js';

/** Start of the capture's timeline in the store tests (2025-11-22T08:26:40Z). */
export const T0 = 1_763_800_000_000_000_000n;
export const SECOND = 1_000_000_000n;

/**
 * The bundled capture through the exporter's real pipeline (aggregator + request generator with
 * per-fetch merge, so samples keep their fetch's timestamp): one request per `fetchesPerRequest` fetches,
 * the fetch i at T0 + offset + i s.
 */
export function captureRequests(fetchesPerRequest = 4, offsetNs = 0n): ExportProfilesServiceRequest[] {
  const emissions = exampleEmissions(BUNDLED_CAPTURE_PATH);
  const out: ExportProfilesServiceRequest[] = [];
  for (let start = 0; start < emissions.length; start += fetchesPerRequest) {
    const resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
    const agg = new SampleAggregator({ resources, counters: new Counters(), exporter: 'store-test' });
    emissions.slice(start, start + fetchesPerRequest).forEach((rows: GadgetRow[], j) => {
      const t = T0 + offsetNs + BigInt(start + j) * SECOND;
      agg.add(batchOf(PROFILE_CPU_SPEC, rows, t, t + SECOND));
    });
    const request = generateRequest(agg.drain(), { resources, sampleMerge: 'per-fetch' });
    if (request) out.push(request);
  }
  return out;
}

/** Frame names of a stack, root first, read straight from the request (inlined lines expanded). */
export function stackPath(dict: ProfilesDictionary, stackIndex: number): string[] {
  const names: string[] = [];
  for (const li of dict.stackTable[stackIndex]!.locationIndices) {
    const loc = dict.locationTable[li]!;
    // The store's documented name of an unsymbolized frame: module base name + address.
    const file =
      loc.mappingIndex !== 0 ? dict.stringTable[dict.mappingTable[loc.mappingIndex]!.filenameStrindex]! : '';
    const module = file.slice(file.lastIndexOf('/') + 1);
    if (loc.lines.length === 0) names.push(`${module ? `${module}+` : ''}0x${loc.address.toString(16)}`);
    for (const line of loc.lines)
      names.push(dict.stringTable[dict.functionTable[line.functionIndex]!.nameStrindex]!);
  }
  return names.reverse();
}

export interface ExpectedSample {
  readonly path: string;
  readonly value: bigint;
  readonly time: bigint;
  readonly labels: ReadonlyMap<string, string>;
}

/** Every sample of the requests with its path, time, value and all resource + sample attributes. */
export function expectedSamples(requests: readonly ExportProfilesServiceRequest[]): ExpectedSample[] {
  const out: ExpectedSample[] = [];
  for (const r of requests) {
    const d = r.dictionary;
    for (const rp of r.resourceProfiles) {
      const resource = (rp.resource?.attributes ?? []).map(
        (kv) => [kv.key, anyValueText(kv.value, d)] as const,
      );
      for (const sp of rp.scopeProfiles)
        for (const p of sp.profiles)
          for (const s of p.samples) {
            const labels = new Map<string, string>(resource);
            for (const ai of s.attributeIndices) {
              const a = d.attributeTable[ai]!;
              labels.set(d.stringTable[a.keyStrindex]!, anyValueText(a.value, d));
            }
            const path = stackPath(d, s.stackIndex).join(';');
            if (s.timestampsUnixNano.length === 0)
              out.push({ path, value: s.values[0]!, time: p.timeUnixNano, labels });
            else
              s.timestampsUnixNano.forEach((t, i) =>
                out.push({ path, value: s.values.length ? s.values[i]! : 1n, time: t, labels }),
              );
          }
    }
  }
  return out;
}

/** Sum of values per path of the samples `keep` accepts. */
export function sumsByPath(
  samples: readonly ExpectedSample[],
  keep: (s: ExpectedSample) => boolean = () => true,
): Map<string, bigint> {
  const sums = new Map<string, bigint>();
  for (const s of samples) if (keep(s)) sums.set(s.path, (sums.get(s.path) ?? 0n) + s.value);
  return sums;
}

/** Self value per root-first path of a flame tree (the root excluded), and totals per path. */
export function treeByPath(tree: FlameTree): { self: Map<string, number>; total: Map<string, number> } {
  const paths: string[] = [];
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  for (let i = 0; i < tree.name.length; i++) {
    const parent = tree.parent[i]!;
    const name = tree.names[tree.name[i]!]!;
    paths[i] = parent < 0 ? '' : parent === 0 ? name : `${paths[parent]};${name}`;
    if (parent < 0) continue;
    if (tree.self[i]! !== 0) self.set(paths[i]!, tree.self[i]!);
    total.set(paths[i]!, tree.total[i]!);
  }
  return { self, total };
}

export function selection(filters: Record<string, string[]> = {}, extra: Partial<Selection> = {}): Selection {
  return { filters: new Map(Object.entries(filters)), ...extra };
}

export function tempDir(prefix = 'store-test-'): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
