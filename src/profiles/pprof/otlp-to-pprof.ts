import {
  Function as PprofFunction,
  Label,
  Location as PprofLocation,
  Mapping as PprofMapping,
  Profile,
  Sample as PprofSample,
  StringTable,
  ValueType as PprofValueType,
} from 'pprof-format';
import type {
  AnyValue,
  ExportProfilesServiceRequest,
  KeyValue,
  Profile as OtlpProfile,
  ProfilesDictionary,
} from '../model/otlp-model.js';
import { INT64_MAX } from '../model/int64.js';

/**
 * OTLP profiles → pprof (`perftools.profiles`), one pprof Profile per OTLP Profile. pprof has no
 * resources, timestamps or links, so resource attributes that identify the workload become sample
 * labels (for `go tool pprof -tagfocus`) and a comment; timestamps only count samples.
 */

/** Resource attributes copied onto every sample as labels: the ones people filter by. */
export const RESOURCE_LABEL_KEYS: readonly string[] = [
  'service.name',
  'process.pid',
  'process.executable.name',
];
/** Resource attribute prefixes copied onto every sample as labels. */
export const RESOURCE_LABEL_PREFIXES: readonly string[] = ['k8s.', 'container.'];
/** Mapping attributes holding a build id, in order of preference (GNU ids are what symbolizers index). */
export const BUILD_ID_ATTRIBUTES: readonly string[] = [
  'process.executable.build_id.gnu',
  'process.executable.build_id.go',
  'process.executable.build_id.htlhash',
];
/** Characters of a container id kept in file names (docker's short id length). */
const CONTAINER_ID_PREFIX_LENGTH = 12;
/**
 * Most pprof samples one merged sample is split into when its value (or count × period) passes
 * int64; beyond, the request is refused rather than written as a huge run of copies.
 */
const MAX_SPLIT_SAMPLES = 1_024n;
/** Longest part of a file name taken from data (service names can be long). */
const MAX_NAME_PART_LENGTH = 64;

export interface PprofProfileFile {
  /** File-system safe base name without extension: `<service>-<pid|container>-<type>-<UTC time>`. */
  readonly name: string;
  readonly profile: Profile;
  /** Every resource attribute rendered as text (arrays comma-joined). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

function stringAt(dict: ProfilesDictionary, index: number, what: string): string {
  const s = dict.stringTable[index];
  if (s === undefined)
    throw new Error(
      `OTLP→pprof: ${what} references string_table[${index}], which has ${dict.stringTable.length} entries`,
    );
  return s;
}

function entryAt<T>(table: readonly T[], index: number, tableName: string, what: string): T {
  const entry = table[index];
  if (entry === undefined)
    throw new Error(
      `OTLP→pprof: ${what} references ${tableName}[${index}], which has ${table.length} entries`,
    );
  return entry;
}

/** Text form of an attribute value, for comments, file names and string labels. */
export function anyValueText(value: AnyValue | undefined, dict?: ProfilesDictionary): string {
  if (value === undefined) return '';
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) return value.intValue.toString();
  if ('boolValue' in value) return String(value.boolValue);
  if ('doubleValue' in value) return String(value.doubleValue);
  if ('bytesValue' in value) return hex(value.bytesValue);
  if ('arrayValue' in value) return value.arrayValue.values.map((v) => anyValueText(v, dict)).join(',');
  if ('kvlistValue' in value)
    return value.kvlistValue.values.map((kv) => `${kv.key}=${anyValueText(kv.value, dict)}`).join(',');
  return dict?.stringTable[value.stringValueStrindex] ?? '';
}

function isResourceLabelKey(key: string): boolean {
  return RESOURCE_LABEL_KEYS.includes(key) || RESOURCE_LABEL_PREFIXES.some((p) => key.startsWith(p));
}

/** A label before interning: string or integer valued (arrays and maps have no pprof form). */
interface PendingLabel {
  readonly key: string;
  readonly str?: string;
  readonly num?: bigint;
  readonly numUnit?: string;
}

function labelOf(
  key: string,
  value: AnyValue | undefined,
  dict: ProfilesDictionary,
  unit = '',
): PendingLabel | undefined {
  if (value === undefined) return undefined;
  if ('intValue' in value) return { key, num: value.intValue, ...(unit ? { numUnit: unit } : {}) };
  if ('arrayValue' in value || 'kvlistValue' in value) return undefined;
  return { key, str: anyValueText(value, dict) };
}

function resourceKeyOf(kv: KeyValue, dict: ProfilesDictionary): string {
  return kv.keyStrindex !== undefined && kv.key === '' ? (dict.stringTable[kv.keyStrindex] ?? '') : kv.key;
}

function safePart(text: string): string {
  return text
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._-]+/, '')
    .slice(0, MAX_NAME_PART_LENGTH);
}

function utcStamp(timeUnixNano: bigint): string {
  const ms = Number(timeUnixNano / 1_000_000n);
  const iso =
    Number.isFinite(ms) && ms >= 0 && ms < 8.64e15 ? new Date(ms).toISOString() : new Date(0).toISOString();
  // 2026-01-01T00:00:00.000Z → 20260101T000000Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

function baseName(
  attrs: Readonly<Record<string, string>>,
  profileType: string,
  timeUnixNano: bigint,
): string {
  const service = safePart(attrs['service.name'] ?? attrs['process.executable.name'] ?? '') || 'profile';
  const pid = attrs['process.pid'];
  const containerId = attrs['container.id'];
  const who = pid
    ? safePart(pid)
    : containerId
      ? safePart(containerId.slice(0, CONTAINER_ID_PREFIX_LENGTH))
      : '';
  return [service, who, safePart(profileType) || 'profile', utcStamp(timeUnixNano)]
    .filter((p) => p !== '')
    .join('-');
}

/** Converts one OTLP profile; `resourceLabels` are added to every sample unless it has the key. */
function convertProfile(
  p: OtlpProfile,
  dict: ProfilesDictionary,
  resourceLabels: readonly PendingLabel[],
  comments: readonly string[],
  where: string,
): { profile: Profile; profileType: string } {
  const strings = new StringTable();
  const s = (text: string): number => strings.dedup(text);

  const sampleType = p.sampleType
    ? {
        type: stringAt(dict, p.sampleType.typeStrindex, `${where}.sample_type.type`),
        unit: stringAt(dict, p.sampleType.unitStrindex, `${where}.sample_type.unit`),
      }
    : { type: 'samples', unit: 'count' };
  const periodType = p.periodType
    ? {
        type: stringAt(dict, p.periodType.typeStrindex, `${where}.period_type.type`),
        unit: stringAt(dict, p.periodType.unitStrindex, `${where}.period_type.unit`),
      }
    : undefined;
  // CPU sample counts get a second value, the CPU time they stand for, like Go's own CPU profiles.
  const isCpu =
    sampleType.type === 'samples' &&
    sampleType.unit === 'count' &&
    periodType?.type === 'cpu' &&
    periodType.unit === 'nanoseconds' &&
    p.period > 0n;

  const functionIds = new Map<number, number>();
  const functions: PprofFunction[] = [];
  const functionId = (index: number, what: string): number => {
    let id = functionIds.get(index);
    if (id !== undefined) return id;
    const fn = entryAt(dict.functionTable, index, 'function_table', what);
    id = functions.length + 1;
    functions.push(
      new PprofFunction({
        id,
        name: s(stringAt(dict, fn.nameStrindex, `function_table[${index}].name`)),
        systemName: s(stringAt(dict, fn.systemNameStrindex, `function_table[${index}].system_name`)),
        filename: s(stringAt(dict, fn.filenameStrindex, `function_table[${index}].filename`)),
        startLine: fn.startLine,
      }),
    );
    functionIds.set(index, id);
    return id;
  };

  const mappingIds = new Map<number, number>();
  const mappings: PprofMapping[] = [];
  /** Whether every location seen in a mapping carried a function (pprof then never symbolizes it). */
  const mappingSymbolized = new Map<number, boolean>();
  const mappingId = (index: number, what: string): number => {
    let id = mappingIds.get(index);
    if (id !== undefined) return id;
    const m = entryAt(dict.mappingTable, index, 'mapping_table', what);
    let buildId = '';
    for (const key of BUILD_ID_ATTRIBUTES) {
      for (const ai of m.attributeIndices) {
        const attr = entryAt(dict.attributeTable, ai, 'attribute_table', `mapping_table[${index}]`);
        if (stringAt(dict, attr.keyStrindex, `attribute_table[${ai}].key`) === key)
          buildId ||= anyValueText(attr.value, dict);
      }
      if (buildId) break;
    }
    id = mappings.length + 1;
    mappings.push(
      new PprofMapping({
        id,
        memoryStart: m.memoryStart,
        memoryLimit: m.memoryLimit,
        fileOffset: m.fileOffset,
        filename: s(stringAt(dict, m.filenameStrindex, `mapping_table[${index}].filename`)),
        buildId: s(buildId),
      }),
    );
    mappingIds.set(index, id);
    return id;
  };

  const locationIds = new Map<number, number>();
  const locations: PprofLocation[] = [];
  const locationId = (index: number, what: string): number => {
    let id = locationIds.get(index);
    if (id !== undefined) return id;
    const loc = entryAt(dict.locationTable, index, 'location_table', what);
    const mapping = loc.mappingIndex !== 0 ? mappingId(loc.mappingIndex, `location_table[${index}]`) : 0;
    const line = loc.lines.map((l) => ({
      functionId: functionId(l.functionIndex, `location_table[${index}]`),
      line: l.line,
      column: l.column,
    }));
    if (mapping !== 0)
      mappingSymbolized.set(mapping, (mappingSymbolized.get(mapping) ?? true) && line.length > 0);
    id = locations.length + 1;
    locations.push(new PprofLocation({ id, mappingId: mapping, address: loc.address, line }));
    locationIds.set(index, id);
    return id;
  };

  // Samples with the same stack, attributes and link merge into one pprof sample (timestamps
  // have no pprof form, so per-fetch samples would only repeat each other).
  const merged = new Map<string, { locationId: number[]; labels: PendingLabel[]; value: bigint }>();
  p.samples.forEach((sample, si) => {
    const what = `${where}.samples[${si}]`;
    const value =
      sample.values.length > 0
        ? sample.values.reduce((a, b) => a + b, 0n)
        : BigInt(sample.timestampsUnixNano.length);
    const key = `${sample.stackIndex}|${[...sample.attributeIndices].sort((a, b) => a - b).join(',')}|${sample.linkIndex}`;
    const known = merged.get(key);
    if (known) {
      known.value += value;
      return;
    }
    const stack = entryAt(dict.stackTable, sample.stackIndex, 'stack_table', what);
    const locationId_ = stack.locationIndices.map((li) =>
      locationId(li, `stack_table[${sample.stackIndex}]`),
    );
    const labels: PendingLabel[] = [];
    const keys = new Set<string>();
    for (const ai of [...sample.attributeIndices, ...p.attributeIndices]) {
      const attr = entryAt(dict.attributeTable, ai, 'attribute_table', what);
      const k = stringAt(dict, attr.keyStrindex, `attribute_table[${ai}].key`);
      const label = labelOf(
        k,
        attr.value,
        dict,
        stringAt(dict, attr.unitStrindex, `attribute_table[${ai}].unit`),
      );
      if (label && !keys.has(k)) {
        keys.add(k);
        labels.push(label);
      }
    }
    if (sample.linkIndex !== 0) {
      const link = entryAt(dict.linkTable, sample.linkIndex, 'link_table', what);
      for (const [k, v] of [
        ['trace_id', link.traceId],
        ['span_id', link.spanId],
      ] as const) {
        if (!keys.has(k)) labels.push({ key: k, str: hex(v) });
      }
    }
    for (const label of resourceLabels) if (!keys.has(label.key)) labels.push(label);
    merged.set(key, { locationId: locationId_, labels, value });
  });

  // pprof values are int64 too: a merged count (or its CPU time, count × period) past int64 is
  // written as several samples of the same stack, which pprof adds up, rather than wrapped.
  const perSample = isCpu && p.period > 0n ? INT64_MAX / p.period : INT64_MAX;
  const samples = [...merged.values()].flatMap((m) =>
    splitValue(m.value, perSample, where).map(
      (value) =>
        new PprofSample({
          locationId: m.locationId,
          value: isCpu ? [value, value * p.period] : [value],
          label: m.labels.map(
            (l) =>
              new Label({
                key: s(l.key),
                ...(l.num !== undefined
                  ? { num: l.num, numUnit: l.numUnit ? s(l.numUnit) : 0 }
                  : { str: s(l.str ?? '') }),
              }),
          ),
        }),
    ),
  );
  for (const m of mappings) m.hasFunctions = mappingSymbolized.get(Number(m.id)) ?? false;

  const sampleTypes = isCpu
    ? [
        new PprofValueType({ type: s('samples'), unit: s('count') }),
        new PprofValueType({ type: s('cpu'), unit: s('nanoseconds') }),
      ]
    : [new PprofValueType({ type: s(sampleType.type), unit: s(sampleType.unit) })];
  const profile = new Profile({
    sampleType: sampleTypes,
    sample: samples,
    mapping: mappings,
    location: locations,
    function: functions,
    stringTable: strings,
    timeNanos: p.timeUnixNano,
    durationNanos: p.durationNano,
    ...(periodType ? { periodType: { type: s(periodType.type), unit: s(periodType.unit) } } : {}),
    period: p.period,
    comment: comments.map(s),
    ...(isCpu ? { defaultSampleType: s('cpu') } : {}),
  });
  return { profile, profileType: isCpu ? 'cpu' : sampleType.type };
}

/**
 * Converts every Profile of a request into a pprof Profile (leaf-first locations, nonzero unique
 * ids, labels from sample and resource attributes). CPU profiles (`samples/count` with period
 * `cpu/nanoseconds`) get `sample_type = [samples/count, cpu/nanoseconds]`, values `[n, n·period]`.
 * Throws when the request references a dictionary entry that does not exist.
 */
export function toPprofProfiles(request: ExportProfilesServiceRequest): PprofProfileFile[] {
  const dict = request.dictionary;
  const out: PprofProfileFile[] = [];
  request.resourceProfiles.forEach((rp, ri) => {
    const attributes: Record<string, string> = {};
    const resourceLabels: PendingLabel[] = [];
    for (const kv of rp.resource?.attributes ?? []) {
      const key = resourceKeyOf(kv, dict);
      if (key === '' || key in attributes) continue;
      attributes[key] = anyValueText(kv.value, dict);
      if (isResourceLabelKey(key)) {
        const label = labelOf(key, kv.value, dict);
        if (label) resourceLabels.push(label);
      }
    }
    const comments = Object.entries(attributes).map(([k, v]) => `${k}=${v}`);
    rp.scopeProfiles.forEach((sp, si) => {
      sp.profiles.forEach((p, pi) => {
        const where = `resource_profiles[${ri}].scope_profiles[${si}].profiles[${pi}]`;
        const profileComments =
          p.profileId && p.profileId.length > 0 ? [...comments, `profile_id=${hex(p.profileId)}`] : comments;
        const { profile, profileType } = convertProfile(p, dict, resourceLabels, profileComments, where);
        out.push({
          name: baseName(attributes, profileType, p.timeUnixNano),
          profile,
          resourceAttributes: attributes,
        });
      });
    });
  });
  return out;
}

/** `value` in pieces of at most `max` (one piece when it fits, the common case). */
function splitValue(value: bigint, max: bigint, where: string): bigint[] {
  if (value <= max || max <= 0n) return [value];
  if ((value + max - 1n) / max > MAX_SPLIT_SAMPLES)
    throw new Error(
      `${where}: a sample value of ${value} does not fit pprof's int64 values (even split in ${MAX_SPLIT_SAMPLES})`,
    );
  const pieces: bigint[] = [];
  let rest = value;
  for (; rest > max; rest -= max) pieces.push(max);
  pieces.push(rest);
  return pieces;
}
