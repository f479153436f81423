import type {
  AnyValue,
  ExportProfilesServiceRequest,
  ExportProfilesServiceResponse,
  KeyValue,
  KeyValueAndUnit,
  Location,
  Mapping,
  Profile,
  ProfileFunction,
  ResourceProfiles,
  Sample,
  ScopeProfiles,
  ValueType,
} from '../model/otlp-model.js';
import { reviveExportRequest, reviveExportResponse } from './model-reviver.js';
import { errorText } from '../../util/error-text.js';

/**
 * OTLP/JSON (opentelemetry-proto `docs/specification.md`, applied to profiles):
 * - lowerCamelCase keys; default-valued scalars and empty repeated fields omitted (proto3 JSON), but
 *   every dictionary table entry kept (`{}` for index-0 zero values, `""` for string_table[0]) and the
 *   `dictionary` always written;
 * - int64/uint64/fixed64 as decimal strings, int32/uint32 as numbers;
 * - `traceId`/`spanId`/`profileId` as hex (the OTLP rule; the Collector does the same for `profileId`),
 *   or base64 when `bytesEncoding: 'base64'` (receivers using Go's protojson, e.g. Pyroscope);
 *   other bytes base64;
 * - non-finite doubles as "NaN" / "Infinity" / "-Infinity".
 */
export interface OtlpJsonOptions {
  /** Encoding of `traceId`, `spanId`, `profileId`. Default 'hex'. */
  bytesEncoding?: 'hex' | 'base64';
}

type Json = Record<string, unknown>;

/** Serialises a request as single-line OTLP/JSON (no trailing newline). */
export function toOtlpJson(request: ExportProfilesServiceRequest, options?: OtlpJsonOptions): string {
  const idEncoding = options?.bytesEncoding ?? 'hex';
  const id = (b: Uint8Array): string =>
    Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString(idEncoding);
  const out: Json = {};
  if (request.resourceProfiles.length > 0) {
    out.resourceProfiles = request.resourceProfiles.map((rp) => resourceProfilesJson(rp, id));
  }
  const d = request.dictionary;
  const dict: Json = {};
  if (d.mappingTable.length > 0) dict.mappingTable = d.mappingTable.map(mappingJson);
  if (d.locationTable.length > 0) dict.locationTable = d.locationTable.map(locationJson);
  if (d.functionTable.length > 0) dict.functionTable = d.functionTable.map(functionJson);
  if (d.linkTable.length > 0) {
    dict.linkTable = d.linkTable.map((l) => {
      const j: Json = {};
      if (l.traceId.length > 0) j.traceId = id(l.traceId);
      if (l.spanId.length > 0) j.spanId = id(l.spanId);
      return j;
    });
  }
  if (d.stringTable.length > 0) dict.stringTable = d.stringTable;
  if (d.attributeTable.length > 0) dict.attributeTable = d.attributeTable.map(keyValueAndUnitJson);
  if (d.stackTable.length > 0) {
    dict.stackTable = d.stackTable.map((s) =>
      s.locationIndices.length > 0 ? { locationIndices: s.locationIndices } : {},
    );
  }
  out.dictionary = dict;
  return JSON.stringify(out);
}

/**
 * Parses OTLP/JSON into the model. Accepts camelCase and snake_case keys, numbers or decimal strings for
 * 64-bit values, ids as hex (32/16/32 digits) or base64, other bytes as base64. Unknown keys are ignored.
 * Throws an Error naming the offending field on malformed input.
 */
export function fromOtlpJson(text: string): ExportProfilesServiceRequest {
  return reviveExportRequest(
    parse(text, 'ExportProfilesServiceRequest'),
    'OTLP/JSON ExportProfilesServiceRequest',
  );
}

/** Serialises a response as single-line OTLP/JSON (`{}` for full success). */
export function toOtlpJsonResponse(response: ExportProfilesServiceResponse): string {
  const ps = response.partialSuccess;
  if (!ps) return '{}';
  const inner: Json = {};
  if (ps.rejectedProfiles !== 0n) inner.rejectedProfiles = ps.rejectedProfiles.toString();
  if (ps.errorMessage !== '') inner.errorMessage = ps.errorMessage;
  return JSON.stringify({ partialSuccess: inner });
}

/** Parses an OTLP/JSON response (empty text = full success). Accepts camelCase and snake_case keys. */
export function fromOtlpJsonResponse(text: string): ExportProfilesServiceResponse {
  if (text.trim() === '') return {};
  return reviveExportResponse(
    parse(text, 'ExportProfilesServiceResponse'),
    'OTLP/JSON ExportProfilesServiceResponse',
  );
}

function parse(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new Error(`OTLP/JSON ${what}: not valid JSON: ${errorText(err)}`);
  }
}

function resourceProfilesJson(rp: ResourceProfiles, id: (b: Uint8Array) => string): Json {
  const j: Json = {};
  if (rp.resource) {
    const r: Json = {};
    if (rp.resource.attributes.length > 0) r.attributes = rp.resource.attributes.map(keyValueJson);
    if (rp.resource.droppedAttributesCount) r.droppedAttributesCount = rp.resource.droppedAttributesCount;
    j.resource = r;
  }
  if (rp.scopeProfiles.length > 0) j.scopeProfiles = rp.scopeProfiles.map((sp) => scopeProfilesJson(sp, id));
  if (rp.schemaUrl) j.schemaUrl = rp.schemaUrl;
  return j;
}

function scopeProfilesJson(sp: ScopeProfiles, id: (b: Uint8Array) => string): Json {
  const j: Json = {};
  if (sp.scope) {
    const s: Json = {};
    if (sp.scope.name) s.name = sp.scope.name;
    if (sp.scope.version) s.version = sp.scope.version;
    if (sp.scope.attributes && sp.scope.attributes.length > 0)
      s.attributes = sp.scope.attributes.map(keyValueJson);
    if (sp.scope.droppedAttributesCount) s.droppedAttributesCount = sp.scope.droppedAttributesCount;
    j.scope = s;
  }
  if (sp.profiles.length > 0) j.profiles = sp.profiles.map((p) => profileJson(p, id));
  if (sp.schemaUrl) j.schemaUrl = sp.schemaUrl;
  return j;
}

function keyValueJson(kv: KeyValue): Json {
  const j: Json = {};
  if (kv.key) j.key = kv.key;
  if (kv.value) j.value = anyValueJson(kv.value);
  if (kv.keyStrindex) j.keyStrindex = kv.keyStrindex;
  return j;
}

/** The set oneof member is written even when it holds its default value. */
function anyValueJson(v: AnyValue): Json {
  if ('stringValue' in v) return { stringValue: v.stringValue };
  if ('intValue' in v) return { intValue: v.intValue.toString() };
  if ('boolValue' in v) return { boolValue: v.boolValue };
  if ('doubleValue' in v) return { doubleValue: doubleJson(v.doubleValue) };
  if ('bytesValue' in v) return { bytesValue: base64(v.bytesValue) };
  if ('arrayValue' in v) {
    return {
      arrayValue: v.arrayValue.values.length > 0 ? { values: v.arrayValue.values.map(anyValueJson) } : {},
    };
  }
  if ('kvlistValue' in v) {
    return {
      kvlistValue: v.kvlistValue.values.length > 0 ? { values: v.kvlistValue.values.map(keyValueJson) } : {},
    };
  }
  return { stringValueStrindex: v.stringValueStrindex };
}

function doubleJson(d: number): number | string {
  if (Number.isNaN(d)) return 'NaN';
  if (d === Infinity) return 'Infinity';
  if (d === -Infinity) return '-Infinity';
  return d;
}

function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

function valueTypeJson(vt: ValueType): Json {
  const j: Json = {};
  if (vt.typeStrindex) j.typeStrindex = vt.typeStrindex;
  if (vt.unitStrindex) j.unitStrindex = vt.unitStrindex;
  return j;
}

function profileJson(p: Profile, id: (b: Uint8Array) => string): Json {
  const j: Json = {};
  if (p.sampleType) j.sampleType = valueTypeJson(p.sampleType);
  if (p.samples.length > 0) j.samples = p.samples.map(sampleJson);
  if (p.timeUnixNano !== 0n) j.timeUnixNano = p.timeUnixNano.toString();
  if (p.durationNano !== 0n) j.durationNano = p.durationNano.toString();
  if (p.periodType) j.periodType = valueTypeJson(p.periodType);
  if (p.period !== 0n) j.period = p.period.toString();
  if (p.profileId && p.profileId.length > 0) j.profileId = id(p.profileId);
  if (p.droppedAttributesCount) j.droppedAttributesCount = p.droppedAttributesCount;
  if (p.originalPayloadFormat) j.originalPayloadFormat = p.originalPayloadFormat;
  if (p.originalPayload && p.originalPayload.length > 0) j.originalPayload = base64(p.originalPayload);
  if (p.attributeIndices.length > 0) j.attributeIndices = p.attributeIndices;
  return j;
}

function sampleJson(s: Sample): Json {
  const j: Json = {};
  if (s.stackIndex) j.stackIndex = s.stackIndex;
  if (s.attributeIndices.length > 0) j.attributeIndices = s.attributeIndices;
  if (s.linkIndex) j.linkIndex = s.linkIndex;
  if (s.values.length > 0) j.values = s.values.map(String);
  if (s.timestampsUnixNano.length > 0) j.timestampsUnixNano = s.timestampsUnixNano.map(String);
  return j;
}

function mappingJson(m: Mapping): Json {
  const j: Json = {};
  if (m.memoryStart !== 0n) j.memoryStart = m.memoryStart.toString();
  if (m.memoryLimit !== 0n) j.memoryLimit = m.memoryLimit.toString();
  if (m.fileOffset !== 0n) j.fileOffset = m.fileOffset.toString();
  if (m.filenameStrindex) j.filenameStrindex = m.filenameStrindex;
  if (m.attributeIndices.length > 0) j.attributeIndices = m.attributeIndices;
  return j;
}

function locationJson(l: Location): Json {
  const j: Json = {};
  if (l.mappingIndex) j.mappingIndex = l.mappingIndex;
  if (l.address !== 0n) j.address = l.address.toString();
  if (l.lines.length > 0) {
    j.lines = l.lines.map((line) => {
      const lj: Json = {};
      if (line.functionIndex) lj.functionIndex = line.functionIndex;
      if (line.line !== 0n) lj.line = line.line.toString();
      if (line.column !== 0n) lj.column = line.column.toString();
      return lj;
    });
  }
  if (l.attributeIndices.length > 0) j.attributeIndices = l.attributeIndices;
  return j;
}

function functionJson(f: ProfileFunction): Json {
  const j: Json = {};
  if (f.nameStrindex) j.nameStrindex = f.nameStrindex;
  if (f.systemNameStrindex) j.systemNameStrindex = f.systemNameStrindex;
  if (f.filenameStrindex) j.filenameStrindex = f.filenameStrindex;
  if (f.startLine !== 0n) j.startLine = f.startLine.toString();
  return j;
}

function keyValueAndUnitJson(a: KeyValueAndUnit): Json {
  const j: Json = {};
  if (a.keyStrindex) j.keyStrindex = a.keyStrindex;
  if (a.value) j.value = anyValueJson(a.value);
  if (a.unitStrindex) j.unitStrindex = a.unitStrindex;
  return j;
}
