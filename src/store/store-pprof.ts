import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { DictionaryBuilder } from '../profiles/request/dictionary-builder.js';
import type { ExportProfilesServiceRequest, Profile, Sample } from '../profiles/model/otlp-model.js';
import {
  RESOURCE_LABEL_KEYS,
  RESOURCE_LABEL_PREFIXES,
  toPprofProfiles,
} from '../profiles/pprof/otlp-to-pprof.js';
import { SPAN_ID_BYTES, SPAN_ID_HEX_DIGITS, TRACE_ID_HEX_DIGITS } from '../profiles/model/otlp-ids.js';
import type { ResolvedSelection } from './selection-sql.js';
import type { StoreDictionary } from './store-dictionary.js';

/**
 * A selection as one gzipped pprof: the grouped rows become one OTLP profile over a fresh dictionary (the
 * exporter's DictionaryBuilder, one location per stored frame), which the exporter's own OTLP→pprof
 * conversion turns into pprof, so CPU profiles get the same `[samples, cpu nanoseconds]` values and labels
 * as the pprof sink writes. Values are bigints end to end. The store keeps frames by function, so
 * locations carry no addresses or lines.
 */

const gzipAsync = promisify(gzip);

function hex(value: unknown, digits: number): Uint8Array {
  return Buffer.from(
    BigInt(value as bigint)
      .toString(16)
      .padStart(digits, '0'),
    'hex',
  );
}

function isPprofLabelKey(key: string): boolean {
  return RESOURCE_LABEL_KEYS.includes(key) || RESOURCE_LABEL_PREFIXES.some((p) => key.startsWith(p));
}

export async function buildStorePprof(
  dict: StoreDictionary,
  resolved: ResolvedSelection,
  columns: readonly unknown[][],
  from: bigint,
  to: bigint,
): Promise<Uint8Array> {
  const b = new DictionaryBuilder();
  const locationOfFrame = new Map<number, number>();
  const location = (frame: number): number => {
    let id = locationOfFrame.get(frame);
    if (id === undefined) {
      const f = dict.frames[frame]!;
      const mappingIndex = f.mapping !== '' ? b.mapping(f.mapping, []) : 0;
      const functionIndex = b.function(f.name, f.name, f.file);
      id = b.appendUniqueLocation({
        mappingIndex,
        address: 0n,
        lines: [{ functionIndex, line: 0n, column: 0n }],
        attributeIndices: [],
      });
      locationOfFrame.set(frame, id);
    }
    return id;
  };
  const stackOfNode = new Map<number, number>();
  const stack = (node: number): number => {
    let id = stackOfNode.get(node);
    if (id === undefined) {
      const locations: number[] = [];
      for (let n = node; n > 0; n = dict.nodeParent[n]!) locations.push(location(dict.nodeFrame[n]!));
      id = b.stack(locations);
      stackOfNode.set(node, id);
    }
    return id;
  };
  const [node, series, attrs, trace, span, sum] = columns;
  const samples: Sample[] = node!.map((n, i) => {
    const labels = [
      ...dict.attributeSets[attrs![i] as number]!,
      ...dict.series[series![i] as number]!.labels.filter(([k]) => isPprofLabelKey(k)),
    ];
    const seen = new Set<string>();
    const attributeIndices: number[] = [];
    for (const [k, v] of labels) {
      if (seen.has(k)) continue;
      seen.add(k);
      attributeIndices.push(b.attribute(k, { stringValue: v }));
    }
    const linkIndex =
      trace![i] === null
        ? 0
        : b.link(
            hex(trace![i], TRACE_ID_HEX_DIGITS),
            span![i] === null ? new Uint8Array(SPAN_ID_BYTES) : hex(span![i], SPAN_ID_HEX_DIGITS),
          );
    return {
      stackIndex: stack(n as number),
      attributeIndices,
      linkIndex,
      values: [BigInt(sum![i] as bigint)],
      timestampsUnixNano: [],
    };
  });
  const first = resolved.typeSeries[0];
  const profile: Profile = {
    sampleType: {
      typeStrindex: b.string(first?.sampleType ?? 'samples'),
      unitStrindex: b.string(first?.sampleUnit ?? 'count'),
    },
    ...(first && first.periodType !== ''
      ? { periodType: { typeStrindex: b.string(first.periodType), unitStrindex: b.string(first.periodUnit) } }
      : {}),
    period: first?.period ?? 0n,
    samples,
    timeUnixNano: from,
    durationNano: to > from ? to - from : 0n,
    attributeIndices: [],
  };
  const request: ExportProfilesServiceRequest = {
    resourceProfiles: [
      {
        resource: { attributes: [] },
        scopeProfiles: [{ scope: { name: 'ig-otel-profiles serve', version: '' }, profiles: [profile] }],
      },
    ],
    dictionary: b.build(),
  };
  const [file] = toPprofProfiles(request);
  return gzipAsync(file!.profile.encode());
}
