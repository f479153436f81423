/**
 * Field tags of ExportProfilesServiceRequest and the messages in it, precomputed as (field << 3) | wireType,
 * named <MESSAGE>_<FIELD>: the one place the encoder (encode-request.ts) and the decoder
 * (request-decoder.ts) take them from. Field numbers follow opentelemetry-proto v1.11.0 (the Sample layout
 * of v1.10+; proto/profiles/). Wire types: 0 varint, 1 fixed64, 2 length-delimited. A repeated scalar's
 * tag is its packed (length-delimited) form; `_UNPACKED` is the element-by-element form decoders also read.
 *
 * One frozen object rather than one export per tag: V8 folds a frozen object's properties into the
 * comparisons, while each imported binding is loaded and TDZ-checked at every use (measured: the decoder
 * took twice as long and the encoder 1.6× as long on the receiver benchmark's requests).
 */
export const TAGS = Object.freeze({
  REQ_RESOURCE_PROFILES: 0x0a, // 1, LEN
  REQ_DICTIONARY: 0x12, // 2, LEN

  RP_RESOURCE: 0x0a,
  RP_SCOPE_PROFILES: 0x12,
  RP_SCHEMA_URL: 0x1a,

  RES_ATTRIBUTES: 0x0a,
  RES_DROPPED: 0x10,
  RES_ENTITY_REFS: 0x1a,

  ENTITY_SCHEMA_URL: 0x0a,
  ENTITY_TYPE: 0x12,
  ENTITY_ID_KEYS: 0x1a,
  ENTITY_DESCRIPTION_KEYS: 0x22,

  SP_SCOPE: 0x0a,
  SP_PROFILES: 0x12,
  SP_SCHEMA_URL: 0x1a,

  SCOPE_NAME: 0x0a,
  SCOPE_VERSION: 0x12,
  SCOPE_ATTRIBUTES: 0x1a,
  SCOPE_DROPPED: 0x20,

  KV_KEY: 0x0a,
  KV_VALUE: 0x12,
  KV_KEY_STRINDEX: 0x18,

  AV_STRING: 0x0a,
  AV_BOOL: 0x10,
  AV_INT: 0x18,
  AV_DOUBLE: 0x21, // 4, fixed64 wire type
  AV_ARRAY: 0x2a,
  AV_KVLIST: 0x32,
  AV_BYTES: 0x3a,
  AV_STRING_STRINDEX: 0x40,
  LIST_VALUES: 0x0a, // ArrayValue.values / KeyValueList.values

  PROF_SAMPLE_TYPE: 0x0a,
  PROF_SAMPLES: 0x12,
  PROF_TIME: 0x19, // 3, fixed64
  PROF_DURATION: 0x20,
  PROF_PERIOD_TYPE: 0x2a,
  PROF_PERIOD: 0x30,
  PROF_PROFILE_ID: 0x3a,
  PROF_DROPPED: 0x40,
  PROF_ORIG_FORMAT: 0x4a,
  PROF_ORIG_PAYLOAD: 0x52,
  PROF_ATTRIBUTE_INDICES: 0x5a,
  PROF_ATTRIBUTE_INDICES_UNPACKED: 0x58,

  VT_TYPE: 0x08,
  VT_UNIT: 0x10,

  SAMPLE_STACK: 0x08,
  SAMPLE_ATTRIBUTE_INDICES: 0x12,
  SAMPLE_ATTRIBUTE_INDICES_UNPACKED: 0x10,
  SAMPLE_LINK: 0x18,
  SAMPLE_VALUES: 0x22,
  SAMPLE_VALUES_UNPACKED: 0x20,
  SAMPLE_TIMESTAMPS: 0x2a,
  SAMPLE_TIMESTAMPS_UNPACKED: 0x29,

  DICT_MAPPING: 0x0a,
  DICT_LOCATION: 0x12,
  DICT_FUNCTION: 0x1a,
  DICT_LINK: 0x22,
  DICT_STRING: 0x2a,
  DICT_ATTRIBUTE: 0x32,
  DICT_STACK: 0x3a,

  MAP_START: 0x08,
  MAP_LIMIT: 0x10,
  MAP_OFFSET: 0x18,
  MAP_FILENAME: 0x20,
  MAP_ATTRIBUTE_INDICES: 0x2a,
  MAP_ATTRIBUTE_INDICES_UNPACKED: 0x28,

  LOC_MAPPING: 0x08,
  LOC_ADDRESS: 0x10,
  LOC_LINES: 0x1a,
  LOC_ATTRIBUTE_INDICES: 0x22,
  LOC_ATTRIBUTE_INDICES_UNPACKED: 0x20,

  LINE_FUNCTION: 0x08,
  LINE_LINE: 0x10,
  LINE_COLUMN: 0x18,

  FN_NAME: 0x08,
  FN_SYSTEM_NAME: 0x10,
  FN_FILENAME: 0x18,
  FN_START_LINE: 0x20,

  LINK_TRACE_ID: 0x0a,
  LINK_SPAN_ID: 0x12,

  KVU_KEY: 0x08,
  KVU_VALUE: 0x12,
  KVU_UNIT: 0x18,

  STACK_LOCATIONS: 0x0a,
  STACK_LOCATIONS_UNPACKED: 0x08,
});
