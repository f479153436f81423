import type {
  AnyValue,
  ExportProfilesServiceRequest,
  InstrumentationScope,
  KeyValue,
  KeyValueAndUnit,
  Link,
  Location,
  Mapping,
  Profile,
  ProfileFunction,
  ProfilesDictionary,
  Resource,
  ResourceProfiles,
  Sample,
  ScopeProfiles,
  Stack,
  ValueType,
} from '../model/otlp-model.js';
import { ProtobufWriter } from './protobuf-writer.js';

/*
 * Tags, precomputed as (field << 3) | wireType. Names: <MESSAGE>_<FIELD>. Wire types: 0 varint,
 * 1 fixed64, 2 length-delimited. Field numbers follow opentelemetry-proto v1.11.0 (Sample layout of v1.10+).
 */
const REQ_RESOURCE_PROFILES = 0x0a; // 1, LEN
const REQ_DICTIONARY = 0x12; // 2, LEN

const RP_RESOURCE = 0x0a;
const RP_SCOPE_PROFILES = 0x12;
const RP_SCHEMA_URL = 0x1a;

const RES_ATTRIBUTES = 0x0a;
const RES_DROPPED = 0x10;

const SP_SCOPE = 0x0a;
const SP_PROFILES = 0x12;
const SP_SCHEMA_URL = 0x1a;

const SCOPE_NAME = 0x0a;
const SCOPE_VERSION = 0x12;
const SCOPE_ATTRIBUTES = 0x1a;
const SCOPE_DROPPED = 0x20;

const KV_KEY = 0x0a;
const KV_VALUE = 0x12;
const KV_KEY_STRINDEX = 0x18;

const AV_STRING = 0x0a;
const AV_BOOL = 0x10;
const AV_INT = 0x18;
const AV_DOUBLE = 0x21; // 4, fixed64 wire type
const AV_ARRAY = 0x2a;
const AV_KVLIST = 0x32;
const AV_BYTES = 0x3a;
const AV_STRING_STRINDEX = 0x40;
const LIST_VALUES = 0x0a; // ArrayValue.values / KeyValueList.values

const PROF_SAMPLE_TYPE = 0x0a;
const PROF_SAMPLES = 0x12;
const PROF_TIME = 0x19; // 3, fixed64
const PROF_DURATION = 0x20;
const PROF_PERIOD_TYPE = 0x2a;
const PROF_PERIOD = 0x30;
const PROF_PROFILE_ID = 0x3a;
const PROF_DROPPED = 0x40;
const PROF_ORIG_FORMAT = 0x4a;
const PROF_ORIG_PAYLOAD = 0x52;
const PROF_ATTRIBUTE_INDICES = 0x5a;

const VT_TYPE = 0x08;
const VT_UNIT = 0x10;

const SAMPLE_STACK = 0x08;
const SAMPLE_ATTRIBUTE_INDICES = 0x12;
const SAMPLE_LINK = 0x18;
const SAMPLE_VALUES = 0x22;
const SAMPLE_TIMESTAMPS = 0x2a;

const DICT_MAPPING = 0x0a;
const DICT_LOCATION = 0x12;
const DICT_FUNCTION = 0x1a;
const DICT_LINK = 0x22;
const DICT_STRING = 0x2a;
const DICT_ATTRIBUTE = 0x32;
const DICT_STACK = 0x3a;

const MAP_START = 0x08;
const MAP_LIMIT = 0x10;
const MAP_OFFSET = 0x18;
const MAP_FILENAME = 0x20;
const MAP_ATTRIBUTE_INDICES = 0x2a;

const LOC_MAPPING = 0x08;
const LOC_ADDRESS = 0x10;
const LOC_LINES = 0x1a;
const LOC_ATTRIBUTE_INDICES = 0x22;

const LINE_FUNCTION = 0x08;
const LINE_LINE = 0x10;
const LINE_COLUMN = 0x18;

const FN_NAME = 0x08;
const FN_SYSTEM_NAME = 0x10;
const FN_FILENAME = 0x18;
const FN_START_LINE = 0x20;

const LINK_TRACE_ID = 0x0a;
const LINK_SPAN_ID = 0x12;

const KVU_KEY = 0x08;
const KVU_VALUE = 0x12;
const KVU_UNIT = 0x18;

const STACK_LOCATIONS = 0x0a;

/** A reused writer whose buffer grew beyond this is dropped after the call, so one huge flush does not pin memory. */
const MAX_RETAINED_WRITER_BYTES = 16 * 1024 * 1024;

/**
 * One writer reused across calls: flushes are sequential on the event loop and `finish()` copies the
 * bytes out, so reuse saves re-growing a multi-MiB buffer on every flush.
 */
let shared: ProtobufWriter | undefined;

/**
 * Encodes a request as protobuf `ExportProfilesServiceRequest` bytes (proto3 semantics: default scalars
 * omitted, repeated scalars packed). Every dictionary table element is written, index-0 zero values
 * as empty embedded messages and the string table's `""` as an empty string; `dictionary` is always
 * written. Resource/scope attributes use the plain `key`.
 */
export function encodeExportRequest(request: ExportProfilesServiceRequest): Uint8Array {
  const w = shared ?? new ProtobufWriter();
  shared = undefined; // re-entrancy guard: a nested call (not expected) gets its own writer
  try {
    w.reset();
    for (const rp of request.resourceProfiles) {
      w.fork(REQ_RESOURCE_PROFILES);
      writeResourceProfiles(w, rp);
      w.join();
    }
    w.fork(REQ_DICTIONARY);
    writeDictionary(w, request.dictionary);
    w.join();
    return w.finish();
  } finally {
    w.reset();
    if (w.capacity <= MAX_RETAINED_WRITER_BYTES) shared = w;
  }
}

function writeResourceProfiles(w: ProtobufWriter, rp: ResourceProfiles): void {
  if (rp.resource) {
    w.fork(RP_RESOURCE);
    writeResource(w, rp.resource);
    w.join();
  }
  for (const sp of rp.scopeProfiles) {
    w.fork(RP_SCOPE_PROFILES);
    writeScopeProfiles(w, sp);
    w.join();
  }
  w.stringField(RP_SCHEMA_URL, rp.schemaUrl);
}

function writeResource(w: ProtobufWriter, r: Resource): void {
  writeKeyValues(w, RES_ATTRIBUTES, r.attributes);
  w.uintField(RES_DROPPED, r.droppedAttributesCount ?? 0);
}

function writeScopeProfiles(w: ProtobufWriter, sp: ScopeProfiles): void {
  if (sp.scope) {
    w.fork(SP_SCOPE);
    writeScope(w, sp.scope);
    w.join();
  }
  for (const p of sp.profiles) {
    w.fork(SP_PROFILES);
    writeProfile(w, p);
    w.join();
  }
  w.stringField(SP_SCHEMA_URL, sp.schemaUrl);
}

function writeScope(w: ProtobufWriter, s: InstrumentationScope): void {
  w.stringField(SCOPE_NAME, s.name);
  w.stringField(SCOPE_VERSION, s.version);
  if (s.attributes) writeKeyValues(w, SCOPE_ATTRIBUTES, s.attributes);
  w.uintField(SCOPE_DROPPED, s.droppedAttributesCount ?? 0);
}

function writeKeyValues(w: ProtobufWriter, tagValue: number, list: readonly KeyValue[]): void {
  for (const kv of list) {
    w.fork(tagValue);
    w.stringField(KV_KEY, kv.key);
    if (kv.value) {
      w.fork(KV_VALUE);
      writeAnyValue(w, kv.value);
      w.join();
    }
    w.uintField(KV_KEY_STRINDEX, kv.keyStrindex ?? 0);
    w.join();
  }
}

/** The oneof member is written even when it holds its default: oneof fields have presence. */
function writeAnyValue(w: ProtobufWriter, v: AnyValue): void {
  if ('stringValue' in v) {
    w.uint(AV_STRING);
    w.string(v.stringValue);
  } else if ('intValue' in v) {
    w.uint(AV_INT);
    w.bigVarint(v.intValue);
  } else if ('boolValue' in v) {
    w.uint(AV_BOOL);
    w.uint(v.boolValue ? 1 : 0);
  } else if ('doubleValue' in v) {
    w.uint(AV_DOUBLE);
    w.double(v.doubleValue);
  } else if ('bytesValue' in v) {
    w.uint(AV_BYTES);
    w.bytes(v.bytesValue);
  } else if ('arrayValue' in v) {
    w.fork(AV_ARRAY);
    for (const item of v.arrayValue.values) {
      w.fork(LIST_VALUES);
      writeAnyValue(w, item);
      w.join();
    }
    w.join();
  } else if ('kvlistValue' in v) {
    w.fork(AV_KVLIST);
    writeKeyValues(w, LIST_VALUES, v.kvlistValue.values);
    w.join();
  } else if ('stringValueStrindex' in v) {
    w.uint(AV_STRING_STRINDEX);
    w.uint(v.stringValueStrindex);
  }
}

function writeValueType(w: ProtobufWriter, tagValue: number, vt: ValueType | undefined): void {
  if (!vt) return;
  w.fork(tagValue);
  w.uintField(VT_TYPE, vt.typeStrindex);
  w.uintField(VT_UNIT, vt.unitStrindex);
  w.join();
}

function writeProfile(w: ProtobufWriter, p: Profile): void {
  writeValueType(w, PROF_SAMPLE_TYPE, p.sampleType);
  const samples = p.samples;
  for (let i = 0; i < samples.length; i++) {
    w.fork(PROF_SAMPLES);
    writeSample(w, samples[i]!);
    w.join();
  }
  w.fixed64Field(PROF_TIME, p.timeUnixNano);
  w.bigVarintField(PROF_DURATION, p.durationNano);
  writeValueType(w, PROF_PERIOD_TYPE, p.periodType);
  w.bigVarintField(PROF_PERIOD, p.period);
  w.bytesField(PROF_PROFILE_ID, p.profileId);
  w.uintField(PROF_DROPPED, p.droppedAttributesCount ?? 0);
  w.stringField(PROF_ORIG_FORMAT, p.originalPayloadFormat);
  w.bytesField(PROF_ORIG_PAYLOAD, p.originalPayload);
  w.packedInt32(PROF_ATTRIBUTE_INDICES, p.attributeIndices);
}

function writeSample(w: ProtobufWriter, s: Sample): void {
  w.uintField(SAMPLE_STACK, s.stackIndex);
  w.packedInt32(SAMPLE_ATTRIBUTE_INDICES, s.attributeIndices);
  w.uintField(SAMPLE_LINK, s.linkIndex);
  w.packedBigVarint(SAMPLE_VALUES, s.values);
  w.packedFixed64(SAMPLE_TIMESTAMPS, s.timestampsUnixNano);
}

function writeDictionary(w: ProtobufWriter, d: ProfilesDictionary): void {
  for (const m of d.mappingTable) {
    w.fork(DICT_MAPPING);
    writeMapping(w, m);
    w.join();
  }
  for (const l of d.locationTable) {
    w.fork(DICT_LOCATION);
    writeLocation(w, l);
    w.join();
  }
  for (const f of d.functionTable) {
    w.fork(DICT_FUNCTION);
    writeFunction(w, f);
    w.join();
  }
  for (const l of d.linkTable) {
    w.fork(DICT_LINK);
    writeLink(w, l);
    w.join();
  }
  for (const s of d.stringTable) {
    // Always written, including string_table[0] = "" (an empty string entry is a present element).
    w.uint(DICT_STRING);
    w.string(s);
  }
  for (const a of d.attributeTable) {
    w.fork(DICT_ATTRIBUTE);
    writeKeyValueAndUnit(w, a);
    w.join();
  }
  for (const s of d.stackTable) {
    w.fork(DICT_STACK);
    writeStack(w, s);
    w.join();
  }
}

function writeMapping(w: ProtobufWriter, m: Mapping): void {
  w.bigVarintField(MAP_START, m.memoryStart);
  w.bigVarintField(MAP_LIMIT, m.memoryLimit);
  w.bigVarintField(MAP_OFFSET, m.fileOffset);
  w.uintField(MAP_FILENAME, m.filenameStrindex);
  w.packedInt32(MAP_ATTRIBUTE_INDICES, m.attributeIndices);
}

function writeLocation(w: ProtobufWriter, l: Location): void {
  w.uintField(LOC_MAPPING, l.mappingIndex);
  w.bigVarintField(LOC_ADDRESS, l.address);
  for (const line of l.lines) {
    w.fork(LOC_LINES);
    w.uintField(LINE_FUNCTION, line.functionIndex);
    w.bigVarintField(LINE_LINE, line.line);
    w.bigVarintField(LINE_COLUMN, line.column);
    w.join();
  }
  w.packedInt32(LOC_ATTRIBUTE_INDICES, l.attributeIndices);
}

function writeFunction(w: ProtobufWriter, f: ProfileFunction): void {
  w.uintField(FN_NAME, f.nameStrindex);
  w.uintField(FN_SYSTEM_NAME, f.systemNameStrindex);
  w.uintField(FN_FILENAME, f.filenameStrindex);
  w.bigVarintField(FN_START_LINE, f.startLine);
}

function writeLink(w: ProtobufWriter, l: Link): void {
  w.bytesField(LINK_TRACE_ID, l.traceId);
  w.bytesField(LINK_SPAN_ID, l.spanId);
}

function writeKeyValueAndUnit(w: ProtobufWriter, a: KeyValueAndUnit): void {
  w.uintField(KVU_KEY, a.keyStrindex);
  if (a.value) {
    w.fork(KVU_VALUE);
    writeAnyValue(w, a.value);
    w.join();
  }
  w.uintField(KVU_UNIT, a.unitStrindex);
}

function writeStack(w: ProtobufWriter, s: Stack): void {
  w.packedInt32(STACK_LOCATIONS, s.locationIndices);
}
