/**
 * In-memory form of an OTLP profiles ExportProfilesServiceRequest (opentelemetry-proto v1.11.0,
 * `v1development`). Field names are the proto's lowerCamelCase JSON names; every 64-bit integer is a
 * bigint so nanosecond timestamps and addresses never lose precision.
 *
 * This is the one shape shared by the generator, the encoders (protobuf, OTLP/JSON, pprof), the
 * decoder and the conformance validator.
 */

export type AnyValue =
  | { stringValue: string }
  | { boolValue: boolean }
  | { intValue: bigint }
  | { doubleValue: number }
  | { bytesValue: Uint8Array }
  | { arrayValue: { values: AnyValue[] } }
  | { kvlistValue: { values: KeyValue[] } }
  /** Profiles-only reference into string_table: decoded, never emitted by us. */
  | { stringValueStrindex: number };

/** Resource and scope attributes: always the plain key (receivers do not resolve key_strindex). */
export interface KeyValue {
  key: string;
  value?: AnyValue;
  /** Decoded from foreign data only; we never emit it. */
  keyStrindex?: number;
}

export interface Resource {
  attributes: readonly KeyValue[];
  droppedAttributesCount?: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes?: KeyValue[];
  droppedAttributesCount?: number;
}

export interface ValueType {
  typeStrindex: number;
  unitStrindex: number;
}

export interface Sample {
  stackIndex: number;
  attributeIndices: number[];
  /** 0 = no link. */
  linkIndex: number;
  values: bigint[];
  timestampsUnixNano: bigint[];
}

export interface Profile {
  sampleType?: ValueType;
  samples: Sample[];
  timeUnixNano: bigint;
  durationNano: bigint;
  periodType?: ValueType;
  period: bigint;
  /** 16 bytes or empty. */
  profileId?: Uint8Array;
  droppedAttributesCount?: number;
  originalPayloadFormat?: string;
  originalPayload?: Uint8Array;
  attributeIndices: number[];
}

export interface ScopeProfiles {
  scope?: InstrumentationScope;
  profiles: Profile[];
  schemaUrl?: string;
}

export interface ResourceProfiles {
  resource?: Resource;
  scopeProfiles: ScopeProfiles[];
  schemaUrl?: string;
}

export interface Mapping {
  memoryStart: bigint;
  memoryLimit: bigint;
  fileOffset: bigint;
  filenameStrindex: number;
  attributeIndices: number[];
}

export interface Line {
  functionIndex: number;
  line: bigint;
  column: bigint;
}

export interface Location {
  /** 0 = unknown / not applicable. */
  mappingIndex: number;
  address: bigint;
  lines: Line[];
  attributeIndices: number[];
}

export interface ProfileFunction {
  nameStrindex: number;
  systemNameStrindex: number;
  filenameStrindex: number;
  startLine: bigint;
}

/** trace_id is 16 bytes and span_id 8 bytes; both empty for the index-0 entry. */
export interface Link {
  traceId: Uint8Array;
  spanId: Uint8Array;
}

export interface KeyValueAndUnit {
  keyStrindex: number;
  value?: AnyValue;
  unitStrindex: number;
}

export interface Stack {
  /** Leaf first. */
  locationIndices: number[];
}

/** Every table's index 0 is the zero value of its element type. */
export interface ProfilesDictionary {
  mappingTable: Mapping[];
  locationTable: Location[];
  functionTable: ProfileFunction[];
  linkTable: Link[];
  stringTable: string[];
  attributeTable: KeyValueAndUnit[];
  stackTable: Stack[];
}

export interface ExportProfilesServiceRequest {
  resourceProfiles: ResourceProfiles[];
  dictionary: ProfilesDictionary;
}

export interface ExportProfilesPartialSuccess {
  rejectedProfiles: bigint;
  errorMessage: string;
}

export interface ExportProfilesServiceResponse {
  partialSuccess?: ExportProfilesPartialSuccess;
}

/** Number of samples and profiles in a request: what every counter in the pipeline speaks in. */
export function countRequest(request: ExportProfilesServiceRequest): { profiles: number; samples: number } {
  let profiles = 0;
  let samples = 0;
  for (const rp of request.resourceProfiles) {
    for (const sp of rp.scopeProfiles) {
      profiles += sp.profiles.length;
      for (const p of sp.profiles) samples += p.samples.length;
    }
  }
  return { profiles, samples };
}

/** A dictionary with every table empty (not even the index-0 entries): the starting point of hand-built requests. */
export function emptyDictionary(): ProfilesDictionary {
  return {
    mappingTable: [],
    locationTable: [],
    functionTable: [],
    linkTable: [],
    stringTable: [],
    attributeTable: [],
    stackTable: [],
  };
}

/** Sum of every sample's values (timestamp-only samples count one per timestamp). */
export function totalSampleValue(requests: readonly ExportProfilesServiceRequest[]): bigint {
  let total = 0n;
  for (const r of requests)
    for (const rp of r.resourceProfiles)
      for (const sp of rp.scopeProfiles)
        for (const p of sp.profiles)
          for (const s of p.samples) {
            if (s.values.length === 0) total += BigInt(s.timestampsUnixNano.length);
            else for (const v of s.values) total += v;
          }
  return total;
}
