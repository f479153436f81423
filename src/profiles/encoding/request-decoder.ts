import type {
  AnyValue,
  ExportProfilesServiceRequest,
  InstrumentationScope,
  KeyValue,
  KeyValueAndUnit,
  Line,
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
import { emptyDictionary } from '../model/otlp-model.js';
import {
  MAX_DEPTH,
  ProtobufDecodeError,
  ProtobufReader,
  WIRE_END_GROUP,
  WIRE_FIXED64,
  WIRE_LEN,
  WIRE_VARINT,
  wireTypeName,
} from './protobuf-reader.js';
import { TAGS as T } from './request-tags.js';

/*
 * Hand-written decoder of protobuf ExportProfilesServiceRequest bytes (opentelemetry-proto v1.11.0, the
 * tags of request-tags.ts) straight into the model: no reflection, no
 * intermediate object. It gives the model the former protobufjs decoder + model reviver gave for every
 * valid input (test/profiles/encoding/request-decoder.test.ts compares both on fuzzed requests):
 *
 * - proto3 semantics: absent scalars are defaults and a repeated scalar is read packed or unpacked; a
 *   singular embedded message met twice is merged (repeated fields appended, scalars last-wins) and the
 *   last member of a oneof wins;
 * - the model's optional fields (`schemaUrl`, `profileId`, `droppedAttributesCount`, `originalPayload*`,
 *   `keyStrindex`, scope `attributes`) are present only when non-default; optional messages (`resource`,
 *   `scope`, `sampleType`, `periodType`, attribute `value`) only when on the wire, an AnyValue with no
 *   member counting as absent (and rejected inside an array_value, which the model cannot represent);
 * - unknown fields of every wire type, groups included, are skipped.
 *
 * Stricter than protobufjs on broken input, never on valid input: a known field with a wire type its type
 * never uses (protobufjs skipped it as unknown: the data was silently lost; it is what a sender on another
 * OTLP profiles version sends) and an unknown varint longer than 10 bytes are errors.
 *
 * Errors are ProtobufDecodeError naming the field path and byte offset: each message's try/catch adds its
 * field while the error unwinds, so the valid path pays nothing for it.
 */

/**
 * Nesting depth of each message (the request is 0), as protobufjs counts it for its recursion limit: only
 * the AnyValue family recurses, the others sit at these fixed depths (used when skipping unknown groups).
 */
const DEPTH_REQUEST = 0;
const DEPTH_TOP = 1; // ResourceProfiles, ProfilesDictionary
const DEPTH_TABLE = 2; // Resource, ScopeProfiles, dictionary table entries
const DEPTH_LEAF = 3; // InstrumentationScope, Profile, Line, EntityRef
const DEPTH_PROFILE_PART = 4; // Sample, ValueType

/** A message's fields by number: proto name and type, for error paths and wrong-wire-type errors. */
type FieldTable = Readonly<Partial<Record<number, readonly [name: string, type: string]>>>;

const REQUEST_FIELDS: FieldTable = {
  1: ['resource_profiles', 'message'],
  2: ['dictionary', 'message'],
};
const RESOURCE_PROFILES_FIELDS: FieldTable = {
  1: ['resource', 'message'],
  2: ['scope_profiles', 'message'],
  3: ['schema_url', 'string'],
};
const RESOURCE_FIELDS: FieldTable = {
  1: ['attributes', 'message'],
  2: ['dropped_attributes_count', 'uint32'],
  3: ['entity_refs', 'message'],
};
const ENTITY_REF_FIELDS: FieldTable = {
  1: ['schema_url', 'string'],
  2: ['type', 'string'],
  3: ['id_keys', 'string'],
  4: ['description_keys', 'string'],
};
const SCOPE_PROFILES_FIELDS: FieldTable = {
  1: ['scope', 'message'],
  2: ['profiles', 'message'],
  3: ['schema_url', 'string'],
};
const SCOPE_FIELDS: FieldTable = {
  1: ['name', 'string'],
  2: ['version', 'string'],
  3: ['attributes', 'message'],
  4: ['dropped_attributes_count', 'uint32'],
};
const KEY_VALUE_FIELDS: FieldTable = {
  1: ['key', 'string'],
  2: ['value', 'message'],
  3: ['key_strindex', 'int32'],
};
const ANY_VALUE_FIELDS: FieldTable = {
  1: ['string_value', 'string'],
  2: ['bool_value', 'bool'],
  3: ['int_value', 'int64'],
  4: ['double_value', 'double'],
  5: ['array_value', 'message'],
  6: ['kvlist_value', 'message'],
  7: ['bytes_value', 'bytes'],
  8: ['string_value_strindex', 'int32'],
};
const LIST_FIELDS: FieldTable = {
  1: ['values', 'message'],
};
const PROFILE_FIELDS: FieldTable = {
  1: ['sample_type', 'message'],
  2: ['samples', 'message'],
  3: ['time_unix_nano', 'fixed64'],
  4: ['duration_nano', 'uint64'],
  5: ['period_type', 'message'],
  6: ['period', 'int64'],
  7: ['profile_id', 'bytes'],
  8: ['dropped_attributes_count', 'uint32'],
  9: ['original_payload_format', 'string'],
  10: ['original_payload', 'bytes'],
  11: ['attribute_indices', 'repeated int32'],
};
const VALUE_TYPE_FIELDS: FieldTable = {
  1: ['type_strindex', 'int32'],
  2: ['unit_strindex', 'int32'],
};
const SAMPLE_FIELDS: FieldTable = {
  1: ['stack_index', 'int32'],
  2: ['attribute_indices', 'repeated int32'],
  3: ['link_index', 'int32'],
  4: ['values', 'repeated int64'],
  5: ['timestamps_unix_nano', 'repeated fixed64'],
};
const DICTIONARY_FIELDS: FieldTable = {
  1: ['mapping_table', 'message'],
  2: ['location_table', 'message'],
  3: ['function_table', 'message'],
  4: ['link_table', 'message'],
  5: ['string_table', 'string'],
  6: ['attribute_table', 'message'],
  7: ['stack_table', 'message'],
};
const MAPPING_FIELDS: FieldTable = {
  1: ['memory_start', 'uint64'],
  2: ['memory_limit', 'uint64'],
  3: ['file_offset', 'uint64'],
  4: ['filename_strindex', 'int32'],
  5: ['attribute_indices', 'repeated int32'],
};
const LOCATION_FIELDS: FieldTable = {
  1: ['mapping_index', 'int32'],
  2: ['address', 'uint64'],
  3: ['lines', 'message'],
  4: ['attribute_indices', 'repeated int32'],
};
const LINE_FIELDS: FieldTable = {
  1: ['function_index', 'int32'],
  2: ['line', 'int64'],
  3: ['column', 'int64'],
};
const FUNCTION_FIELDS: FieldTable = {
  1: ['name_strindex', 'int32'],
  2: ['system_name_strindex', 'int32'],
  3: ['filename_strindex', 'int32'],
  4: ['start_line', 'int64'],
};
const LINK_FIELDS: FieldTable = {
  1: ['trace_id', 'bytes'],
  2: ['span_id', 'bytes'],
};
const KEY_VALUE_AND_UNIT_FIELDS: FieldTable = {
  1: ['key_strindex', 'int32'],
  2: ['value', 'message'],
  3: ['unit_strindex', 'int32'],
};
const STACK_FIELDS: FieldTable = {
  1: ['location_indices', 'repeated int32'],
};

/** Stands for an empty AnyValue inside an array_value until the end of the decode (see RequestReader). */
const EMPTY_ARRAY_ELEMENT: AnyValue = Object.freeze({ stringValue: '' });

/** The reader plus what one request's decode learns on the way. */
class RequestReader extends ProtobufReader {
  /**
   * An array_value held an empty AnyValue. Rejected at the end, not on the spot: a later member of an
   * enclosing AnyValue's oneof may still replace the array (protobuf's last-member-wins).
   */
  emptyArrayElement = false;
}

/**
 * Decodes protobuf ExportProfilesServiceRequest bytes into the model. Throws ProtobufDecodeError naming
 * the field path and byte offset of the first problem.
 */
export function readExportRequest(bytes: Uint8Array): ExportProfilesServiceRequest {
  const r = new RequestReader(bytes);
  const resourceProfiles: ResourceProfiles[] = [];
  let dictionary: ProfilesDictionary | undefined;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.REQ_RESOURCE_PROFILES) {
        const outer = r.enter();
        resourceProfiles.push(readResourceProfiles(r));
        r.leave(outer);
      } else if (t === T.REQ_DICTIONARY) {
        const outer = r.enter();
        dictionary = readDictionary(r, dictionary);
        r.leave(outer);
      } else otherField(r, t, REQUEST_FIELDS, DEPTH_REQUEST);
    }
  } catch (err) {
    throw within(err, REQUEST_FIELDS, t, t === T.REQ_RESOURCE_PROFILES ? resourceProfiles.length : undefined);
  }
  const request: ExportProfilesServiceRequest = {
    resourceProfiles,
    dictionary: dictionary ?? emptyDictionary(),
  };
  if (r.emptyArrayElement) rejectEmptyArrayElements(request);
  return request;
}

function readResourceProfiles(r: RequestReader): ResourceProfiles {
  const scopeProfiles: ScopeProfiles[] = [];
  let resource: Resource | undefined;
  let schemaUrl = '';
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.RP_SCOPE_PROFILES: {
          const outer = r.enter();
          scopeProfiles.push(readScopeProfiles(r));
          r.leave(outer);
          break;
        }
        case T.RP_RESOURCE: {
          const outer = r.enter();
          resource = readResource(r, resource);
          r.leave(outer);
          break;
        }
        case T.RP_SCHEMA_URL:
          schemaUrl = r.string();
          break;
        default:
          otherField(r, t, RESOURCE_PROFILES_FIELDS, DEPTH_TOP);
      }
    }
  } catch (err) {
    throw within(
      err,
      RESOURCE_PROFILES_FIELDS,
      t,
      t === T.RP_SCOPE_PROFILES ? scopeProfiles.length : undefined,
    );
  }
  const out: ResourceProfiles = { scopeProfiles };
  if (resource !== undefined) out.resource = resource;
  if (schemaUrl !== '') out.schemaUrl = schemaUrl;
  return out;
}

function readResource(r: RequestReader, previous: Resource | undefined): Resource {
  const attributes = previous ? (previous.attributes as KeyValue[]) : [];
  let dropped = previous?.droppedAttributesCount ?? 0;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.RES_ATTRIBUTES: {
          const outer = r.enter();
          attributes.push(readKeyValue(r, DEPTH_LEAF));
          r.leave(outer);
          break;
        }
        case T.RES_DROPPED:
          dropped = r.uint32();
          break;
        case T.RES_ENTITY_REFS: {
          // Not in the model, but checked: a broken entity ref is a broken request.
          const outer = r.enter();
          checkEntityRef(r);
          r.leave(outer);
          break;
        }
        default:
          otherField(r, t, RESOURCE_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, RESOURCE_FIELDS, t, t === T.RES_ATTRIBUTES ? attributes.length : undefined);
  }
  const out: Resource = { attributes };
  if (dropped !== 0) out.droppedAttributesCount = dropped;
  return out;
}

function checkEntityRef(r: RequestReader): void {
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (
        t === T.ENTITY_SCHEMA_URL ||
        t === T.ENTITY_TYPE ||
        t === T.ENTITY_ID_KEYS ||
        t === T.ENTITY_DESCRIPTION_KEYS
      ) {
        r.string();
      } else otherField(r, t, ENTITY_REF_FIELDS, DEPTH_LEAF);
    }
  } catch (err) {
    throw within(err, ENTITY_REF_FIELDS, t);
  }
}

function readScopeProfiles(r: RequestReader): ScopeProfiles {
  const profiles: Profile[] = [];
  let scope: InstrumentationScope | undefined;
  let schemaUrl = '';
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.SP_PROFILES: {
          const outer = r.enter();
          profiles.push(readProfile(r));
          r.leave(outer);
          break;
        }
        case T.SP_SCOPE: {
          const outer = r.enter();
          scope = readScope(r, scope);
          r.leave(outer);
          break;
        }
        case T.SP_SCHEMA_URL:
          schemaUrl = r.string();
          break;
        default:
          otherField(r, t, SCOPE_PROFILES_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, SCOPE_PROFILES_FIELDS, t, t === T.SP_PROFILES ? profiles.length : undefined);
  }
  const out: ScopeProfiles = { profiles };
  if (scope !== undefined) out.scope = scope;
  if (schemaUrl !== '') out.schemaUrl = schemaUrl;
  return out;
}

function readScope(r: RequestReader, previous: InstrumentationScope | undefined): InstrumentationScope {
  let name = previous?.name ?? '';
  let version = previous?.version ?? '';
  const attributes = previous?.attributes ?? [];
  let dropped = previous?.droppedAttributesCount ?? 0;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.SCOPE_NAME:
          name = r.string();
          break;
        case T.SCOPE_VERSION:
          version = r.string();
          break;
        case T.SCOPE_ATTRIBUTES: {
          const outer = r.enter();
          attributes.push(readKeyValue(r, DEPTH_LEAF + 1));
          r.leave(outer);
          break;
        }
        case T.SCOPE_DROPPED:
          dropped = r.uint32();
          break;
        default:
          otherField(r, t, SCOPE_FIELDS, DEPTH_LEAF);
      }
    }
  } catch (err) {
    throw within(err, SCOPE_FIELDS, t, t === T.SCOPE_ATTRIBUTES ? attributes.length : undefined);
  }
  const out: InstrumentationScope = { name, version };
  if (attributes.length > 0) out.attributes = attributes;
  if (dropped !== 0) out.droppedAttributesCount = dropped;
  return out;
}

/** A KeyValue at nesting `depth` (resource/scope attributes, kvlist entries). */
function readKeyValue(r: RequestReader, depth: number): KeyValue {
  if (depth > MAX_DEPTH) throw r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  let key = '';
  let value: AnyValue | undefined;
  let keyStrindex = 0;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.KV_KEY:
          key = r.string();
          break;
        case T.KV_VALUE: {
          const outer = r.enter();
          value = readAnyValue(r, depth + 1, value);
          r.leave(outer);
          break;
        }
        case T.KV_KEY_STRINDEX:
          keyStrindex = r.int32();
          break;
        default:
          otherField(r, t, KEY_VALUE_FIELDS, depth);
      }
    }
  } catch (err) {
    throw within(err, KEY_VALUE_FIELDS, t);
  }
  const out: KeyValue = { key };
  if (value !== undefined) out.value = value;
  if (keyStrindex !== 0) out.keyStrindex = keyStrindex;
  return out;
}

/**
 * An AnyValue at nesting `depth`, merged into `previous` (the same field met before): undefined when no
 * member is set. The last member on the wire wins; an array_value or kvlist_value met again while it is
 * the current member is merged (its values appended).
 */
function readAnyValue(r: RequestReader, depth: number, previous: AnyValue | undefined): AnyValue | undefined {
  if (depth > MAX_DEPTH) throw r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  let value = previous;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.AV_STRING:
          value = { stringValue: r.string() };
          break;
        case T.AV_BOOL:
          value = { boolValue: r.bool() };
          break;
        case T.AV_INT:
          value = { intValue: r.varint64(true) };
          break;
        case T.AV_DOUBLE:
          value = { doubleValue: r.double() };
          break;
        case T.AV_BYTES:
          value = { bytesValue: r.bytes() };
          break;
        case T.AV_STRING_STRINDEX:
          value = { stringValueStrindex: r.int32() };
          break;
        case T.AV_ARRAY: {
          const values = value !== undefined && 'arrayValue' in value ? value.arrayValue.values : [];
          const outer = r.enter();
          readArrayValue(r, depth + 1, values);
          r.leave(outer);
          value = { arrayValue: { values } };
          break;
        }
        case T.AV_KVLIST: {
          const values = value !== undefined && 'kvlistValue' in value ? value.kvlistValue.values : [];
          const outer = r.enter();
          readKeyValueList(r, depth + 1, values);
          r.leave(outer);
          value = { kvlistValue: { values } };
          break;
        }
        default:
          otherField(r, t, ANY_VALUE_FIELDS, depth);
      }
    }
  } catch (err) {
    throw within(err, ANY_VALUE_FIELDS, t);
  }
  return value;
}

/** ArrayValue content at nesting `depth`: appends its elements to `values`. */
function readArrayValue(r: RequestReader, depth: number, values: AnyValue[]): void {
  if (depth > MAX_DEPTH) throw r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.LIST_VALUES) {
        const outer = r.enter();
        const item = readAnyValue(r, depth + 1, undefined);
        r.leave(outer);
        if (item === undefined) r.emptyArrayElement = true;
        values.push(item ?? EMPTY_ARRAY_ELEMENT);
      } else otherField(r, t, LIST_FIELDS, depth);
    }
  } catch (err) {
    throw within(err, LIST_FIELDS, t, t === T.LIST_VALUES ? values.length : undefined);
  }
}

/** KeyValueList content at nesting `depth`: appends its entries to `values`. */
function readKeyValueList(r: RequestReader, depth: number, values: KeyValue[]): void {
  if (depth > MAX_DEPTH) throw r.fail(`nesting deeper than ${MAX_DEPTH} levels`);
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.LIST_VALUES) {
        const outer = r.enter();
        values.push(readKeyValue(r, depth + 1));
        r.leave(outer);
      } else otherField(r, t, LIST_FIELDS, depth);
    }
  } catch (err) {
    throw within(err, LIST_FIELDS, t, t === T.LIST_VALUES ? values.length : undefined);
  }
}

function readValueType(r: RequestReader, previous: ValueType | undefined): ValueType {
  let typeStrindex = previous?.typeStrindex ?? 0;
  let unitStrindex = previous?.unitStrindex ?? 0;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.VT_TYPE) typeStrindex = r.int32();
      else if (t === T.VT_UNIT) unitStrindex = r.int32();
      else otherField(r, t, VALUE_TYPE_FIELDS, DEPTH_PROFILE_PART);
    }
  } catch (err) {
    throw within(err, VALUE_TYPE_FIELDS, t);
  }
  return { typeStrindex, unitStrindex };
}

function readProfile(r: RequestReader): Profile {
  const samples: Sample[] = [];
  const attributeIndices: number[] = [];
  let sampleType: ValueType | undefined;
  let periodType: ValueType | undefined;
  let timeUnixNano = 0n;
  let durationNano = 0n;
  let period = 0n;
  let profileId: Uint8Array | undefined;
  let dropped = 0;
  let format = '';
  let payload: Uint8Array | undefined;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.PROF_SAMPLES: {
          const outer = r.enter();
          samples.push(readSample(r));
          r.leave(outer);
          break;
        }
        case T.PROF_SAMPLE_TYPE: {
          const outer = r.enter();
          sampleType = readValueType(r, sampleType);
          r.leave(outer);
          break;
        }
        case T.PROF_PERIOD_TYPE: {
          const outer = r.enter();
          periodType = readValueType(r, periodType);
          r.leave(outer);
          break;
        }
        case T.PROF_TIME:
          timeUnixNano = r.fixed64();
          break;
        case T.PROF_DURATION:
          durationNano = r.varint64(false);
          break;
        case T.PROF_PERIOD:
          period = r.varint64(true);
          break;
        case T.PROF_PROFILE_ID:
          profileId = r.bytes();
          break;
        case T.PROF_DROPPED:
          dropped = r.uint32();
          break;
        case T.PROF_ORIG_FORMAT:
          format = r.string();
          break;
        case T.PROF_ORIG_PAYLOAD:
          payload = r.bytes();
          break;
        case T.PROF_ATTRIBUTE_INDICES:
          r.packedInt32(attributeIndices);
          break;
        case T.PROF_ATTRIBUTE_INDICES_UNPACKED:
          attributeIndices.push(r.int32());
          break;
        default:
          otherField(r, t, PROFILE_FIELDS, DEPTH_LEAF);
      }
    }
  } catch (err) {
    throw within(err, PROFILE_FIELDS, t, t === T.PROF_SAMPLES ? samples.length : undefined);
  }
  const out: Profile = { samples, timeUnixNano, durationNano, period, attributeIndices };
  if (sampleType !== undefined) out.sampleType = sampleType;
  if (periodType !== undefined) out.periodType = periodType;
  if (profileId !== undefined && profileId.length > 0) out.profileId = profileId;
  if (dropped !== 0) out.droppedAttributesCount = dropped;
  if (format !== '') out.originalPayloadFormat = format;
  if (payload !== undefined && payload.length > 0) out.originalPayload = payload;
  return out;
}

function readSample(r: RequestReader): Sample {
  let stackIndex = 0;
  let linkIndex = 0;
  const attributeIndices: number[] = [];
  const values: bigint[] = [];
  const timestampsUnixNano: bigint[] = [];
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.SAMPLE_STACK:
          stackIndex = r.int32();
          break;
        case T.SAMPLE_VALUES:
          r.packedVarint64(values, true);
          break;
        case T.SAMPLE_TIMESTAMPS:
          r.packedFixed64(timestampsUnixNano);
          break;
        case T.SAMPLE_ATTRIBUTE_INDICES:
          r.packedInt32(attributeIndices);
          break;
        case T.SAMPLE_LINK:
          linkIndex = r.int32();
          break;
        case T.SAMPLE_VALUES_UNPACKED:
          values.push(r.varint64(true));
          break;
        case T.SAMPLE_TIMESTAMPS_UNPACKED:
          timestampsUnixNano.push(r.fixed64());
          break;
        case T.SAMPLE_ATTRIBUTE_INDICES_UNPACKED:
          attributeIndices.push(r.int32());
          break;
        default:
          otherField(r, t, SAMPLE_FIELDS, DEPTH_PROFILE_PART);
      }
    }
  } catch (err) {
    throw within(err, SAMPLE_FIELDS, t);
  }
  return { stackIndex, attributeIndices, linkIndex, values, timestampsUnixNano };
}

function readDictionary(r: RequestReader, previous: ProfilesDictionary | undefined): ProfilesDictionary {
  const d = previous ?? emptyDictionary();
  const { mappingTable, locationTable, functionTable, linkTable, stringTable, attributeTable, stackTable } =
    d;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.DICT_STACK: {
          const outer = r.enter();
          stackTable.push(readStack(r));
          r.leave(outer);
          break;
        }
        case T.DICT_LOCATION: {
          const outer = r.enter();
          locationTable.push(readLocation(r));
          r.leave(outer);
          break;
        }
        case T.DICT_FUNCTION: {
          const outer = r.enter();
          functionTable.push(readFunction(r));
          r.leave(outer);
          break;
        }
        case T.DICT_STRING:
          stringTable.push(r.string());
          break;
        case T.DICT_MAPPING: {
          const outer = r.enter();
          mappingTable.push(readMapping(r));
          r.leave(outer);
          break;
        }
        case T.DICT_ATTRIBUTE: {
          const outer = r.enter();
          attributeTable.push(readKeyValueAndUnit(r));
          r.leave(outer);
          break;
        }
        case T.DICT_LINK: {
          const outer = r.enter();
          linkTable.push(readLink(r));
          r.leave(outer);
          break;
        }
        default:
          otherField(r, t, DICTIONARY_FIELDS, DEPTH_TOP);
      }
    }
  } catch (err) {
    throw within(err, DICTIONARY_FIELDS, t, dictionaryTableLength(d, t));
  }
  return d;
}

/** Index of the dictionary entry a tag was adding (error paths only). */
function dictionaryTableLength(d: ProfilesDictionary, t: number): number | undefined {
  if ((t & 7) !== 2) return undefined;
  switch (t >>> 3) {
    case 1:
      return d.mappingTable.length;
    case 2:
      return d.locationTable.length;
    case 3:
      return d.functionTable.length;
    case 4:
      return d.linkTable.length;
    case 5:
      return d.stringTable.length;
    case 6:
      return d.attributeTable.length;
    case 7:
      return d.stackTable.length;
    default:
      return undefined;
  }
}

function readMapping(r: RequestReader): Mapping {
  let memoryStart = 0n;
  let memoryLimit = 0n;
  let fileOffset = 0n;
  let filenameStrindex = 0;
  const attributeIndices: number[] = [];
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.MAP_START:
          memoryStart = r.varint64(false);
          break;
        case T.MAP_LIMIT:
          memoryLimit = r.varint64(false);
          break;
        case T.MAP_OFFSET:
          fileOffset = r.varint64(false);
          break;
        case T.MAP_FILENAME:
          filenameStrindex = r.int32();
          break;
        case T.MAP_ATTRIBUTE_INDICES:
          r.packedInt32(attributeIndices);
          break;
        case T.MAP_ATTRIBUTE_INDICES_UNPACKED:
          attributeIndices.push(r.int32());
          break;
        default:
          otherField(r, t, MAPPING_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, MAPPING_FIELDS, t);
  }
  return { memoryStart, memoryLimit, fileOffset, filenameStrindex, attributeIndices };
}

function readLocation(r: RequestReader): Location {
  let mappingIndex = 0;
  let address = 0n;
  const lines: Line[] = [];
  const attributeIndices: number[] = [];
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.LOC_LINES: {
          const outer = r.enter();
          lines.push(readLine(r));
          r.leave(outer);
          break;
        }
        case T.LOC_MAPPING:
          mappingIndex = r.int32();
          break;
        case T.LOC_ADDRESS:
          address = r.varint64(false);
          break;
        case T.LOC_ATTRIBUTE_INDICES:
          r.packedInt32(attributeIndices);
          break;
        case T.LOC_ATTRIBUTE_INDICES_UNPACKED:
          attributeIndices.push(r.int32());
          break;
        default:
          otherField(r, t, LOCATION_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, LOCATION_FIELDS, t, t === T.LOC_LINES ? lines.length : undefined);
  }
  return { mappingIndex, address, lines, attributeIndices };
}

function readLine(r: RequestReader): Line {
  let functionIndex = 0;
  let line = 0n;
  let column = 0n;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.LINE_FUNCTION:
          functionIndex = r.int32();
          break;
        case T.LINE_LINE:
          line = r.varint64(true);
          break;
        case T.LINE_COLUMN:
          column = r.varint64(true);
          break;
        default:
          otherField(r, t, LINE_FIELDS, DEPTH_LEAF);
      }
    }
  } catch (err) {
    throw within(err, LINE_FIELDS, t);
  }
  return { functionIndex, line, column };
}

function readFunction(r: RequestReader): ProfileFunction {
  let nameStrindex = 0;
  let systemNameStrindex = 0;
  let filenameStrindex = 0;
  let startLine = 0n;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.FN_NAME:
          nameStrindex = r.int32();
          break;
        case T.FN_SYSTEM_NAME:
          systemNameStrindex = r.int32();
          break;
        case T.FN_FILENAME:
          filenameStrindex = r.int32();
          break;
        case T.FN_START_LINE:
          startLine = r.varint64(true);
          break;
        default:
          otherField(r, t, FUNCTION_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, FUNCTION_FIELDS, t);
  }
  return { nameStrindex, systemNameStrindex, filenameStrindex, startLine };
}

function readLink(r: RequestReader): Link {
  let traceId: Uint8Array | undefined;
  let spanId: Uint8Array | undefined;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.LINK_TRACE_ID) traceId = r.bytes();
      else if (t === T.LINK_SPAN_ID) spanId = r.bytes();
      else otherField(r, t, LINK_FIELDS, DEPTH_TABLE);
    }
  } catch (err) {
    throw within(err, LINK_FIELDS, t);
  }
  return { traceId: traceId ?? new Uint8Array(0), spanId: spanId ?? new Uint8Array(0) };
}

function readKeyValueAndUnit(r: RequestReader): KeyValueAndUnit {
  let keyStrindex = 0;
  let unitStrindex = 0;
  let value: AnyValue | undefined;
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      switch (t) {
        case T.KVU_KEY:
          keyStrindex = r.int32();
          break;
        case T.KVU_VALUE: {
          const outer = r.enter();
          value = readAnyValue(r, DEPTH_LEAF, value);
          r.leave(outer);
          break;
        }
        case T.KVU_UNIT:
          unitStrindex = r.int32();
          break;
        default:
          otherField(r, t, KEY_VALUE_AND_UNIT_FIELDS, DEPTH_TABLE);
      }
    }
  } catch (err) {
    throw within(err, KEY_VALUE_AND_UNIT_FIELDS, t);
  }
  const out: KeyValueAndUnit = { keyStrindex, unitStrindex };
  if (value !== undefined) out.value = value;
  return out;
}

function readStack(r: RequestReader): Stack {
  const locationIndices: number[] = [];
  let t = 0;
  try {
    while (r.pos < r.limit) {
      t = 0;
      t = r.tag();
      if (t === T.STACK_LOCATIONS) r.packedInt32(locationIndices);
      else if (t === T.STACK_LOCATIONS_UNPACKED) locationIndices.push(r.int32());
      else otherField(r, t, STACK_FIELDS, DEPTH_TABLE);
    }
  } catch (err) {
    throw within(err, STACK_FIELDS, t);
  }
  return { locationIndices };
}

/**
 * A tag no case of its message matched: a known field with a wire type its type never uses is an error
 * (it most likely comes from a sender on another OTLP profiles version); an unknown field is skipped.
 */
function otherField(r: RequestReader, t: number, fields: FieldTable, depth: number): void {
  const field = t >>> 3;
  const wireType = t & 7;
  const known = fields[field];
  // End-group and the undefined wire types 6 and 7 are wrong whatever the field: skip() names them.
  if (known !== undefined && wireType !== WIRE_END_GROUP && wireType < 6) {
    throw r.fail(
      `sent as ${wireTypeName(wireType)}, but this ${known[1]} field is ${expectedWire(known[1])}; ` +
        'the sender may speak another OTLP profiles version than this receiver (opentelemetry-proto v1.11.0)',
    );
  }
  r.skip(wireType, field, depth);
}

/** How a field of `type` (as the field tables spell it) is encoded, for wrong-wire-type errors. */
function expectedWire(type: string): string {
  if (type === 'message' || type === 'string' || type === 'bytes') return wireTypeName(WIRE_LEN);
  if (type === 'fixed64' || type === 'double') return wireTypeName(WIRE_FIXED64);
  if (type === 'repeated fixed64')
    return `${wireTypeName(WIRE_LEN)} (packed) or ${wireTypeName(WIRE_FIXED64)}`;
  if (type.startsWith('repeated '))
    return `${wireTypeName(WIRE_LEN)} (packed) or ${wireTypeName(WIRE_VARINT)}`;
  return wireTypeName(WIRE_VARINT);
}

/**
 * Adds the field a message was reading (from its last tag `t`; 0 while a tag was being read) to a decode
 * error's path, as `name[index]` for an entry of a repeated message or string field.
 */
function within(err: unknown, fields: FieldTable, t: number, index?: number): unknown {
  if (!(err instanceof ProtobufDecodeError) || t === 0) return err;
  const known = fields[t >>> 3];
  if (known === undefined) return err; // an unknown field: the reason names its number
  return err.within(index === undefined ? known[0] : `${known[0]}[${index}]`);
}

/**
 * Throws for the first array_value element that stayed an empty AnyValue (the model has no form for it),
 * in the order the former reviver visited them.
 */
function rejectEmptyArrayElements(request: ExportProfilesServiceRequest): void {
  const visitValue = (v: AnyValue | undefined, path: string): void => {
    if (v === undefined) return;
    if ('arrayValue' in v) {
      v.arrayValue.values.forEach((item, i) => {
        const at = `${path}.array_value.values[${i}]`;
        if (item === EMPTY_ARRAY_ELEMENT) {
          throw new ProtobufDecodeError(
            'empty AnyValue inside an array_value is not supported by the model',
          ).within(at);
        }
        visitValue(item, at);
      });
    } else if ('kvlistValue' in v) visitKeyValues(v.kvlistValue.values, `${path}.kvlist_value.values`);
  };
  const visitKeyValues = (list: readonly KeyValue[] | undefined, path: string): void =>
    list?.forEach((kv, i) => visitValue(kv.value, `${path}[${i}].value`));
  request.resourceProfiles.forEach((rp, i) => {
    rp.scopeProfiles.forEach((sp, j) =>
      visitKeyValues(sp.scope?.attributes, `resource_profiles[${i}].scope_profiles[${j}].scope.attributes`),
    );
    visitKeyValues(rp.resource?.attributes, `resource_profiles[${i}].resource.attributes`);
  });
  request.dictionary.attributeTable.forEach((a, i) =>
    visitValue(a.value, `dictionary.attribute_table[${i}].value`),
  );
}
