import { gzipSync } from 'node:zlib';
import type { ExportProfilesServiceRequest, KeyValueAndUnit, Sample } from '../profiles/otlp-model.js';
import {
  RESOURCE_LABEL_KEYS,
  RESOURCE_LABEL_PREFIXES,
  toPprofProfiles,
} from '../profiles/pprof/otlp-to-pprof.js';
import type { ResolvedSelection } from './selection-sql.js';
import type { StoreDictionary } from './store-dictionary.js';

/**
 * A selection as one gzipped pprof: the grouped rows become one OTLP profile over a fresh dictionary (one
 * location per stored frame), which the exporter's own OTLP→pprof conversion turns into pprof — so CPU
 * profiles get the same `[samples, cpu nanoseconds]` values and labels as the pprof sink writes. Values are
 * bigints end to end. The store keeps frames by function, so locations carry no addresses or lines.
 */

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

export function buildStorePprof(
  dict: StoreDictionary,
  resolved: ResolvedSelection,
  columns: readonly unknown[][],
  from: bigint,
  to: bigint,
): Uint8Array {
  const strings: string[] = [''];
  const stringIds = new Map<string, number>([['', 0]]);
  const s = (text: string): number => {
    let id = stringIds.get(text);
    if (id === undefined) {
      id = strings.length;
      strings.push(text);
      stringIds.set(text, id);
    }
    return id;
  };
  const request: ExportProfilesServiceRequest = {
    resourceProfiles: [],
    dictionary: {
      mappingTable: [
        { memoryStart: 0n, memoryLimit: 0n, fileOffset: 0n, filenameStrindex: 0, attributeIndices: [] },
      ],
      locationTable: [{ mappingIndex: 0, address: 0n, lines: [], attributeIndices: [] }],
      functionTable: [{ nameStrindex: 0, systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n }],
      linkTable: [{ traceId: new Uint8Array(0), spanId: new Uint8Array(0) }],
      stringTable: strings,
      attributeTable: [{ keyStrindex: 0, unitStrindex: 0 }],
      stackTable: [{ locationIndices: [] }],
    },
  };
  const d = request.dictionary;
  const mappingOf = new Map<string, number>();
  const locationOfFrame = new Map<number, number>();
  const location = (frame: number): number => {
    let id = locationOfFrame.get(frame);
    if (id !== undefined) return id;
    const f = dict.frames[frame]!;
    let mapping = 0;
    if (f.mapping !== '') {
      mapping = mappingOf.get(f.mapping) ?? 0;
      if (mapping === 0) {
        mapping = d.mappingTable.length;
        d.mappingTable.push({
          memoryStart: 0n,
          memoryLimit: 0n,
          fileOffset: 0n,
          filenameStrindex: s(f.mapping),
          attributeIndices: [],
        });
        mappingOf.set(f.mapping, mapping);
      }
    }
    d.functionTable.push({
      nameStrindex: s(f.name),
      systemNameStrindex: s(f.name),
      filenameStrindex: s(f.file),
      startLine: 0n,
    });
    id = d.locationTable.length;
    d.locationTable.push({
      mappingIndex: mapping,
      address: 0n,
      lines: [{ functionIndex: d.functionTable.length - 1, line: 0n, column: 0n }],
      attributeIndices: [],
    });
    locationOfFrame.set(frame, id);
    return id;
  };
  const stackOfNode = new Map<number, number>();
  const stack = (node: number): number => {
    let id = stackOfNode.get(node);
    if (id !== undefined) return id;
    const locations: number[] = [];
    for (let n = node; n > 0; n = dict.nodeParent[n]!) locations.push(location(dict.nodeFrame[n]!));
    id = d.stackTable.length;
    d.stackTable.push({ locationIndices: locations });
    stackOfNode.set(node, id);
    return id;
  };
  const attributeIds = new Map<string, number>();
  const attribute = (key: string, value: string): number => {
    const k = `${key}\u0000${value}`;
    let id = attributeIds.get(k);
    if (id === undefined) {
      id = d.attributeTable.length;
      const entry: KeyValueAndUnit = { keyStrindex: s(key), value: { stringValue: value }, unitStrindex: 0 };
      d.attributeTable.push(entry);
      attributeIds.set(k, id);
    }
    return id;
  };
  const linkIds = new Map<string, number>();
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
      attributeIndices.push(attribute(k, v));
    }
    let linkIndex = 0;
    if (trace![i] !== null) {
      const key = `${trace![i] as bigint}/${(span![i] as bigint | null) ?? ''}`;
      linkIndex = linkIds.get(key) ?? 0;
      if (linkIndex === 0) {
        linkIndex = d.linkTable.length;
        d.linkTable.push({
          traceId: hex(trace![i], 32),
          spanId: span![i] === null ? new Uint8Array(8) : hex(span![i], 16),
        });
        linkIds.set(key, linkIndex);
      }
    }
    return {
      stackIndex: stack(n as number),
      attributeIndices,
      linkIndex,
      values: [BigInt(sum![i] as bigint)],
      timestampsUnixNano: [],
    };
  });
  const first = resolved.typeSeries[0];
  request.resourceProfiles.push({
    resource: { attributes: [] },
    scopeProfiles: [
      {
        scope: { name: 'ig-otel-profiles serve', version: '' },
        profiles: [
          {
            sampleType: {
              typeStrindex: s(first?.sampleType ?? 'samples'),
              unitStrindex: s(first?.sampleUnit ?? 'count'),
            },
            ...(first && first.periodType !== ''
              ? { periodType: { typeStrindex: s(first.periodType), unitStrindex: s(first.periodUnit) } }
              : {}),
            period: first?.period ?? 0n,
            samples,
            timeUnixNano: from,
            durationNano: to > from ? to - from : 0n,
            attributeIndices: [],
          },
        ],
      },
    ],
  });
  const [file] = toPprofProfiles(request);
  return gzipSync(file!.profile.encode());
}
