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
import { TAGS as T } from './request-tags.js';

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
      w.fork(T.REQ_RESOURCE_PROFILES);
      writeResourceProfiles(w, rp);
      w.join();
    }
    w.fork(T.REQ_DICTIONARY);
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
    w.fork(T.RP_RESOURCE);
    writeResource(w, rp.resource);
    w.join();
  }
  for (const sp of rp.scopeProfiles) {
    w.fork(T.RP_SCOPE_PROFILES);
    writeScopeProfiles(w, sp);
    w.join();
  }
  w.stringField(T.RP_SCHEMA_URL, rp.schemaUrl);
}

function writeResource(w: ProtobufWriter, r: Resource): void {
  writeKeyValues(w, T.RES_ATTRIBUTES, r.attributes);
  w.uintField(T.RES_DROPPED, r.droppedAttributesCount ?? 0);
}

function writeScopeProfiles(w: ProtobufWriter, sp: ScopeProfiles): void {
  if (sp.scope) {
    w.fork(T.SP_SCOPE);
    writeScope(w, sp.scope);
    w.join();
  }
  for (const p of sp.profiles) {
    w.fork(T.SP_PROFILES);
    writeProfile(w, p);
    w.join();
  }
  w.stringField(T.SP_SCHEMA_URL, sp.schemaUrl);
}

function writeScope(w: ProtobufWriter, s: InstrumentationScope): void {
  w.stringField(T.SCOPE_NAME, s.name);
  w.stringField(T.SCOPE_VERSION, s.version);
  if (s.attributes) writeKeyValues(w, T.SCOPE_ATTRIBUTES, s.attributes);
  w.uintField(T.SCOPE_DROPPED, s.droppedAttributesCount ?? 0);
}

function writeKeyValues(w: ProtobufWriter, tagValue: number, list: readonly KeyValue[]): void {
  for (const kv of list) {
    w.fork(tagValue);
    w.stringField(T.KV_KEY, kv.key);
    if (kv.value) {
      w.fork(T.KV_VALUE);
      writeAnyValue(w, kv.value);
      w.join();
    }
    w.uintField(T.KV_KEY_STRINDEX, kv.keyStrindex ?? 0);
    w.join();
  }
}

/** The oneof member is written even when it holds its default: oneof fields have presence. */
function writeAnyValue(w: ProtobufWriter, v: AnyValue): void {
  if ('stringValue' in v) {
    w.uint(T.AV_STRING);
    w.string(v.stringValue);
  } else if ('intValue' in v) {
    w.uint(T.AV_INT);
    w.bigVarint(v.intValue);
  } else if ('boolValue' in v) {
    w.uint(T.AV_BOOL);
    w.uint(v.boolValue ? 1 : 0);
  } else if ('doubleValue' in v) {
    w.uint(T.AV_DOUBLE);
    w.double(v.doubleValue);
  } else if ('bytesValue' in v) {
    w.uint(T.AV_BYTES);
    w.bytes(v.bytesValue);
  } else if ('arrayValue' in v) {
    w.fork(T.AV_ARRAY);
    for (const item of v.arrayValue.values) {
      w.fork(T.LIST_VALUES);
      writeAnyValue(w, item);
      w.join();
    }
    w.join();
  } else if ('kvlistValue' in v) {
    w.fork(T.AV_KVLIST);
    writeKeyValues(w, T.LIST_VALUES, v.kvlistValue.values);
    w.join();
  } else if ('stringValueStrindex' in v) {
    w.uint(T.AV_STRING_STRINDEX);
    w.uint(v.stringValueStrindex);
  }
}

function writeValueType(w: ProtobufWriter, tagValue: number, vt: ValueType | undefined): void {
  if (!vt) return;
  w.fork(tagValue);
  w.uintField(T.VT_TYPE, vt.typeStrindex);
  w.uintField(T.VT_UNIT, vt.unitStrindex);
  w.join();
}

function writeProfile(w: ProtobufWriter, p: Profile): void {
  writeValueType(w, T.PROF_SAMPLE_TYPE, p.sampleType);
  const samples = p.samples;
  for (let i = 0; i < samples.length; i++) {
    w.fork(T.PROF_SAMPLES);
    writeSample(w, samples[i]!);
    w.join();
  }
  w.fixed64Field(T.PROF_TIME, p.timeUnixNano);
  w.bigVarintField(T.PROF_DURATION, p.durationNano);
  writeValueType(w, T.PROF_PERIOD_TYPE, p.periodType);
  w.bigVarintField(T.PROF_PERIOD, p.period);
  w.bytesField(T.PROF_PROFILE_ID, p.profileId);
  w.uintField(T.PROF_DROPPED, p.droppedAttributesCount ?? 0);
  w.stringField(T.PROF_ORIG_FORMAT, p.originalPayloadFormat);
  w.bytesField(T.PROF_ORIG_PAYLOAD, p.originalPayload);
  w.packedInt32(T.PROF_ATTRIBUTE_INDICES, p.attributeIndices);
}

function writeSample(w: ProtobufWriter, s: Sample): void {
  w.uintField(T.SAMPLE_STACK, s.stackIndex);
  w.packedInt32(T.SAMPLE_ATTRIBUTE_INDICES, s.attributeIndices);
  w.uintField(T.SAMPLE_LINK, s.linkIndex);
  w.packedBigVarint(T.SAMPLE_VALUES, s.values);
  w.packedFixed64(T.SAMPLE_TIMESTAMPS, s.timestampsUnixNano);
}

function writeDictionary(w: ProtobufWriter, d: ProfilesDictionary): void {
  for (const m of d.mappingTable) {
    w.fork(T.DICT_MAPPING);
    writeMapping(w, m);
    w.join();
  }
  for (const l of d.locationTable) {
    w.fork(T.DICT_LOCATION);
    writeLocation(w, l);
    w.join();
  }
  for (const f of d.functionTable) {
    w.fork(T.DICT_FUNCTION);
    writeFunction(w, f);
    w.join();
  }
  for (const l of d.linkTable) {
    w.fork(T.DICT_LINK);
    writeLink(w, l);
    w.join();
  }
  for (const s of d.stringTable) {
    // Always written, including string_table[0] = "" (an empty string entry is a present element).
    w.uint(T.DICT_STRING);
    w.string(s);
  }
  for (const a of d.attributeTable) {
    w.fork(T.DICT_ATTRIBUTE);
    writeKeyValueAndUnit(w, a);
    w.join();
  }
  for (const s of d.stackTable) {
    w.fork(T.DICT_STACK);
    writeStack(w, s);
    w.join();
  }
}

function writeMapping(w: ProtobufWriter, m: Mapping): void {
  w.bigVarintField(T.MAP_START, m.memoryStart);
  w.bigVarintField(T.MAP_LIMIT, m.memoryLimit);
  w.bigVarintField(T.MAP_OFFSET, m.fileOffset);
  w.uintField(T.MAP_FILENAME, m.filenameStrindex);
  w.packedInt32(T.MAP_ATTRIBUTE_INDICES, m.attributeIndices);
}

function writeLocation(w: ProtobufWriter, l: Location): void {
  w.uintField(T.LOC_MAPPING, l.mappingIndex);
  w.bigVarintField(T.LOC_ADDRESS, l.address);
  for (const line of l.lines) {
    w.fork(T.LOC_LINES);
    w.uintField(T.LINE_FUNCTION, line.functionIndex);
    w.bigVarintField(T.LINE_LINE, line.line);
    w.bigVarintField(T.LINE_COLUMN, line.column);
    w.join();
  }
  w.packedInt32(T.LOC_ATTRIBUTE_INDICES, l.attributeIndices);
}

function writeFunction(w: ProtobufWriter, f: ProfileFunction): void {
  w.uintField(T.FN_NAME, f.nameStrindex);
  w.uintField(T.FN_SYSTEM_NAME, f.systemNameStrindex);
  w.uintField(T.FN_FILENAME, f.filenameStrindex);
  w.bigVarintField(T.FN_START_LINE, f.startLine);
}

function writeLink(w: ProtobufWriter, l: Link): void {
  w.bytesField(T.LINK_TRACE_ID, l.traceId);
  w.bytesField(T.LINK_SPAN_ID, l.spanId);
}

function writeKeyValueAndUnit(w: ProtobufWriter, a: KeyValueAndUnit): void {
  w.uintField(T.KVU_KEY, a.keyStrindex);
  if (a.value) {
    w.fork(T.KVU_VALUE);
    writeAnyValue(w, a.value);
    w.join();
  }
  w.uintField(T.KVU_UNIT, a.unitStrindex);
}

function writeStack(w: ProtobufWriter, s: Stack): void {
  w.packedInt32(T.STACK_LOCATIONS, s.locationIndices);
}
