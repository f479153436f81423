import type {
  AnyValue,
  ExportProfilesPartialSuccess,
  ExportProfilesServiceRequest,
  ExportProfilesServiceResponse,
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
import { INT64_MAX, INT64_MIN } from '../model/int64.js';
import { PROFILE_ID_BYTES, SPAN_ID_BYTES, TRACE_ID_BYTES } from '../model/otlp-ids.js';

/**
 * Turns a loosely-typed plain object (parsed OTLP/JSON, or protobufjs `toObject` output: the export
 * response, and requests in the tests' reference decoder) into the exact model shape. The protobuf request
 * decoder (request-decoder.ts) builds the same shapes directly; tests compare it with protobufjs + this:
 *
 * - keys: lowerCamelCase or the proto's snake_case;
 * - 64-bit integers: bigint, integral number or decimal string → bigint;
 * - int32/uint32: number or decimal string → number;
 * - bytes: Uint8Array (copied into a plain Uint8Array) or base64 string; the ids `traceId`, `spanId`,
 *   `profileId` also accept hex (exactly 2·N hex digits, N = 16/8/16);
 * - absent scalars → defaults (0, 0n, '', empty arrays); optional model fields (`schemaUrl`,
 *   `profileId`, `droppedAttributesCount`, `originalPayload*`, `keyStrindex`, scope `attributes`) are
 *   present only when non-default; optional messages (`resource`, `scope`, `sampleType`, `periodType`,
 *   attribute `value`) only when present in the input (an AnyValue with no member set counts as absent).
 *
 * Throws an Error naming the offending path on values of the wrong type.
 */

type Obj = Record<string, unknown>;

const INT32_MIN = -0x8000_0000;
const INT32_MAX = 0x7fff_ffff;
const UINT32_MAX = 0xffff_ffff;
const UINT64_MAX = (1n << 64n) - 1n;

const BASE64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const HEX_RE = /^[0-9a-fA-F]*$/;

class Reviver {
  constructor(private readonly source: string) {}

  fail(path: string, message: string): never {
    throw new Error(`${this.source}: ${path}: ${message}`);
  }

  obj(v: unknown, path: string): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) {
      this.fail(path, `expected an object, got ${describe(v)}`);
    }
    return v as Obj;
  }

  /** Field lookup by camelCase or snake_case name. */
  get(o: Obj, camel: string, snake?: string): unknown {
    const v = o[camel];
    if (v !== undefined && v !== null) return v;
    if (snake !== undefined) {
      const s = o[snake];
      if (s !== undefined && s !== null) return s;
    }
    return undefined;
  }

  has(o: Obj, camel: string, snake?: string): boolean {
    return this.get(o, camel, snake) !== undefined;
  }

  array(v: unknown, path: string): unknown[] {
    if (v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, `expected an array, got ${describe(v)}`);
    return v;
  }

  int(v: unknown, path: string, min = INT32_MIN, max = INT32_MAX): number {
    if (v === undefined) return 0;
    let n: number;
    if (typeof v === 'number') n = v;
    else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) n = Number(v);
    else if (typeof v === 'bigint') n = Number(v);
    else this.fail(path, `expected an integer, got ${describe(v)}`);
    if (!Number.isInteger(n) || n < min || n > max)
      this.fail(path, `integer ${String(v)} out of range [${min}, ${max}]`);
    return n;
  }

  uint32(v: unknown, path: string): number {
    return this.int(v, path, 0, UINT32_MAX);
  }

  big(v: unknown, path: string, unsigned: boolean): bigint {
    if (v === undefined) return 0n;
    let b: bigint;
    if (typeof v === 'bigint') b = v;
    else if (typeof v === 'number') {
      if (!Number.isInteger(v)) this.fail(path, `expected an integer, got ${v}`);
      b = BigInt(v);
    } else if (typeof v === 'string' && /^-?\d+$/.test(v.trim())) b = BigInt(v.trim());
    else if (isLongLike(v)) {
      b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
      if (!unsigned) b = BigInt.asIntN(64, b);
    } else this.fail(path, `expected a 64-bit integer (decimal string or number), got ${describe(v)}`);
    if (unsigned ? b < 0n || b > UINT64_MAX : b < INT64_MIN || b > INT64_MAX) {
      this.fail(path, `${unsigned ? 'uint64' : 'int64'} ${b} out of range`);
    }
    return b;
  }

  str(v: unknown, path: string): string {
    if (v === undefined) return '';
    if (typeof v !== 'string') this.fail(path, `expected a string, got ${describe(v)}`);
    return v;
  }

  bool(v: unknown, path: string): boolean {
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(path, `expected a boolean, got ${describe(v)}`);
    return v;
  }

  double(v: unknown, path: string): number {
    if (v === undefined) return 0;
    if (typeof v === 'number') return v;
    if (typeof v === 'string') {
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      const n = Number(v);
      if (v.trim() !== '' && Number.isFinite(n)) return n;
    }
    this.fail(path, `expected a number, got ${describe(v)}`);
  }

  /** bytes: Uint8Array, base64 (standard or URL-safe), or for ids (`idBytes` set) exactly 2·idBytes hex digits. */
  bytes(v: unknown, path: string, idBytes?: number): Uint8Array {
    if (v === undefined) return new Uint8Array(0);
    if (v instanceof Uint8Array) return new Uint8Array(v);
    if (Array.isArray(v) && v.every((x) => typeof x === 'number')) return Uint8Array.from(v);
    if (typeof v !== 'string') this.fail(path, `expected bytes (base64 string), got ${describe(v)}`);
    if (idBytes !== undefined && v.length === idBytes * 2 && HEX_RE.test(v)) {
      return new Uint8Array(Buffer.from(v, 'hex'));
    }
    if (!BASE64_RE.test(v)) {
      this.fail(
        path,
        `expected ${idBytes !== undefined ? `${idBytes * 2} hex digits or ` : ''}base64, got "${truncate(v)}"`,
      );
    }
    return new Uint8Array(Buffer.from(v, 'base64'));
  }

  // --- messages ------------------------------------------------------------------------------------

  request(v: unknown): ExportProfilesServiceRequest {
    const o = this.obj(v ?? {}, '$');
    const rps = this.array(this.get(o, 'resourceProfiles', 'resource_profiles'), 'resource_profiles');
    const dict = this.get(o, 'dictionary');
    return {
      resourceProfiles: rps.map((rp, i) => this.resourceProfiles(rp, `resource_profiles[${i}]`)),
      dictionary: this.dictionary(dict ?? {}, 'dictionary'),
    };
  }

  resourceProfiles(v: unknown, path: string): ResourceProfiles {
    const o = this.obj(v, path);
    const resource = this.get(o, 'resource');
    const sps = this.array(this.get(o, 'scopeProfiles', 'scope_profiles'), `${path}.scope_profiles`);
    const out: ResourceProfiles = {
      scopeProfiles: sps.map((sp, i) => this.scopeProfiles(sp, `${path}.scope_profiles[${i}]`)),
    };
    if (resource !== undefined) out.resource = this.resource(resource, `${path}.resource`);
    const schemaUrl = this.str(this.get(o, 'schemaUrl', 'schema_url'), `${path}.schema_url`);
    if (schemaUrl !== '') out.schemaUrl = schemaUrl;
    return out;
  }

  resource(v: unknown, path: string): Resource {
    const o = this.obj(v, path);
    const out: Resource = {
      attributes: this.keyValues(this.get(o, 'attributes'), `${path}.attributes`),
    };
    const dropped = this.uint32(
      this.get(o, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.dropped_attributes_count`,
    );
    if (dropped !== 0) out.droppedAttributesCount = dropped;
    return out;
  }

  scopeProfiles(v: unknown, path: string): ScopeProfiles {
    const o = this.obj(v, path);
    const scope = this.get(o, 'scope');
    const profiles = this.array(this.get(o, 'profiles'), `${path}.profiles`);
    const out: ScopeProfiles = {
      profiles: profiles.map((p, i) => this.profile(p, `${path}.profiles[${i}]`)),
    };
    if (scope !== undefined) out.scope = this.scope(scope, `${path}.scope`);
    const schemaUrl = this.str(this.get(o, 'schemaUrl', 'schema_url'), `${path}.schema_url`);
    if (schemaUrl !== '') out.schemaUrl = schemaUrl;
    return out;
  }

  scope(v: unknown, path: string): InstrumentationScope {
    const o = this.obj(v, path);
    const out: InstrumentationScope = {
      name: this.str(this.get(o, 'name'), `${path}.name`),
      version: this.str(this.get(o, 'version'), `${path}.version`),
    };
    const attributes = this.keyValues(this.get(o, 'attributes'), `${path}.attributes`);
    if (attributes.length > 0) out.attributes = attributes;
    const dropped = this.uint32(
      this.get(o, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.dropped_attributes_count`,
    );
    if (dropped !== 0) out.droppedAttributesCount = dropped;
    return out;
  }

  keyValues(v: unknown, path: string): KeyValue[] {
    return this.array(v, path).map((kv, i) => this.keyValue(kv, `${path}[${i}]`));
  }

  keyValue(v: unknown, path: string): KeyValue {
    const o = this.obj(v, path);
    const out: KeyValue = { key: this.str(this.get(o, 'key'), `${path}.key`) };
    const value = this.get(o, 'value');
    if (value !== undefined) {
      const av = this.anyValue(value, `${path}.value`);
      if (av) out.value = av;
    }
    const keyStrindex = this.int(this.get(o, 'keyStrindex', 'key_strindex'), `${path}.key_strindex`);
    if (keyStrindex !== 0) out.keyStrindex = keyStrindex;
    return out;
  }

  /** Returns undefined for an AnyValue with no member set (the proto's "empty value"). */
  anyValue(v: unknown, path: string): AnyValue | undefined {
    const o = this.obj(v, path);
    let x: unknown;
    if ((x = this.get(o, 'stringValue', 'string_value')) !== undefined) {
      return { stringValue: this.str(x, `${path}.string_value`) };
    }
    if ((x = this.get(o, 'boolValue', 'bool_value')) !== undefined) {
      return { boolValue: this.bool(x, `${path}.bool_value`) };
    }
    if ((x = this.get(o, 'intValue', 'int_value')) !== undefined) {
      return { intValue: this.big(x, `${path}.int_value`, false) };
    }
    if ((x = this.get(o, 'doubleValue', 'double_value')) !== undefined) {
      return { doubleValue: this.double(x, `${path}.double_value`) };
    }
    if ((x = this.get(o, 'arrayValue', 'array_value')) !== undefined) {
      const a = this.obj(x, `${path}.array_value`);
      const values = this.array(this.get(a, 'values'), `${path}.array_value.values`);
      return {
        arrayValue: {
          // An empty AnyValue inside an array has no model form; rejected loudly rather than dropped.
          values: values.map((item, i) => this.requiredAnyValue(item, `${path}.array_value.values[${i}]`)),
        },
      };
    }
    if ((x = this.get(o, 'kvlistValue', 'kvlist_value')) !== undefined) {
      const l = this.obj(x, `${path}.kvlist_value`);
      return {
        kvlistValue: { values: this.keyValues(this.get(l, 'values'), `${path}.kvlist_value.values`) },
      };
    }
    if ((x = this.get(o, 'bytesValue', 'bytes_value')) !== undefined) {
      return { bytesValue: this.bytes(x, `${path}.bytes_value`) };
    }
    if ((x = this.get(o, 'stringValueStrindex', 'string_value_strindex')) !== undefined) {
      return { stringValueStrindex: this.int(x, `${path}.string_value_strindex`) };
    }
    return undefined;
  }

  requiredAnyValue(v: unknown, path: string): AnyValue {
    const av = this.anyValue(v, path);
    if (!av) this.fail(path, 'empty AnyValue inside an array_value is not supported by the model');
    return av;
  }

  valueType(v: unknown, path: string): ValueType {
    const o = this.obj(v, path);
    return {
      typeStrindex: this.int(this.get(o, 'typeStrindex', 'type_strindex'), `${path}.type_strindex`),
      unitStrindex: this.int(this.get(o, 'unitStrindex', 'unit_strindex'), `${path}.unit_strindex`),
    };
  }

  int32s(v: unknown, path: string): number[] {
    return this.array(v, path).map((x, i) => this.int(x, `${path}[${i}]`));
  }

  profile(v: unknown, path: string): Profile {
    const o = this.obj(v, path);
    const samples = this.array(this.get(o, 'samples'), `${path}.samples`);
    const out: Profile = {
      samples: samples.map((s, i) => this.sample(s, `${path}.samples[${i}]`)),
      timeUnixNano: this.big(this.get(o, 'timeUnixNano', 'time_unix_nano'), `${path}.time_unix_nano`, true),
      durationNano: this.big(this.get(o, 'durationNano', 'duration_nano'), `${path}.duration_nano`, true),
      period: this.big(this.get(o, 'period'), `${path}.period`, false),
      attributeIndices: this.int32s(
        this.get(o, 'attributeIndices', 'attribute_indices'),
        `${path}.attribute_indices`,
      ),
    };
    const sampleType = this.get(o, 'sampleType', 'sample_type');
    if (sampleType !== undefined) out.sampleType = this.valueType(sampleType, `${path}.sample_type`);
    const periodType = this.get(o, 'periodType', 'period_type');
    if (periodType !== undefined) out.periodType = this.valueType(periodType, `${path}.period_type`);
    const profileId = this.bytes(
      this.get(o, 'profileId', 'profile_id'),
      `${path}.profile_id`,
      PROFILE_ID_BYTES,
    );
    if (profileId.length > 0) out.profileId = profileId;
    const dropped = this.uint32(
      this.get(o, 'droppedAttributesCount', 'dropped_attributes_count'),
      `${path}.dropped_attributes_count`,
    );
    if (dropped !== 0) out.droppedAttributesCount = dropped;
    const format = this.str(
      this.get(o, 'originalPayloadFormat', 'original_payload_format'),
      `${path}.original_payload_format`,
    );
    if (format !== '') out.originalPayloadFormat = format;
    const payload = this.bytes(
      this.get(o, 'originalPayload', 'original_payload'),
      `${path}.original_payload`,
    );
    if (payload.length > 0) out.originalPayload = payload;
    return out;
  }

  sample(v: unknown, path: string): Sample {
    const o = this.obj(v, path);
    const values = this.array(this.get(o, 'values'), `${path}.values`);
    const ts = this.array(
      this.get(o, 'timestampsUnixNano', 'timestamps_unix_nano'),
      `${path}.timestamps_unix_nano`,
    );
    return {
      stackIndex: this.int(this.get(o, 'stackIndex', 'stack_index'), `${path}.stack_index`),
      attributeIndices: this.int32s(
        this.get(o, 'attributeIndices', 'attribute_indices'),
        `${path}.attribute_indices`,
      ),
      linkIndex: this.int(this.get(o, 'linkIndex', 'link_index'), `${path}.link_index`),
      values: values.map((x, i) => this.big(x, `${path}.values[${i}]`, false)),
      timestampsUnixNano: ts.map((x, i) => this.big(x, `${path}.timestamps_unix_nano[${i}]`, true)),
    };
  }

  dictionary(v: unknown, path: string): ProfilesDictionary {
    const o = this.obj(v, path);
    const table = <T>(camel: string, snake: string, f: (x: unknown, p: string) => T): T[] =>
      this.array(this.get(o, camel, snake), `${path}.${snake}`).map((x, i) => f(x, `${path}.${snake}[${i}]`));
    return {
      mappingTable: table('mappingTable', 'mapping_table', (x, p) => this.mapping(x, p)),
      locationTable: table('locationTable', 'location_table', (x, p) => this.location(x, p)),
      functionTable: table('functionTable', 'function_table', (x, p) => this.fn(x, p)),
      linkTable: table('linkTable', 'link_table', (x, p) => this.link(x, p)),
      stringTable: table('stringTable', 'string_table', (x, p) => this.str(x, p)),
      attributeTable: table('attributeTable', 'attribute_table', (x, p) => this.keyValueAndUnit(x, p)),
      stackTable: table('stackTable', 'stack_table', (x, p) => this.stack(x, p)),
    };
  }

  mapping(v: unknown, path: string): Mapping {
    const o = this.obj(v, path);
    return {
      memoryStart: this.big(this.get(o, 'memoryStart', 'memory_start'), `${path}.memory_start`, true),
      memoryLimit: this.big(this.get(o, 'memoryLimit', 'memory_limit'), `${path}.memory_limit`, true),
      fileOffset: this.big(this.get(o, 'fileOffset', 'file_offset'), `${path}.file_offset`, true),
      filenameStrindex: this.int(
        this.get(o, 'filenameStrindex', 'filename_strindex'),
        `${path}.filename_strindex`,
      ),
      attributeIndices: this.int32s(
        this.get(o, 'attributeIndices', 'attribute_indices'),
        `${path}.attribute_indices`,
      ),
    };
  }

  location(v: unknown, path: string): Location {
    const o = this.obj(v, path);
    const lines = this.array(this.get(o, 'lines'), `${path}.lines`);
    return {
      mappingIndex: this.int(this.get(o, 'mappingIndex', 'mapping_index'), `${path}.mapping_index`),
      address: this.big(this.get(o, 'address'), `${path}.address`, true),
      lines: lines.map((l, i) => this.line(l, `${path}.lines[${i}]`)),
      attributeIndices: this.int32s(
        this.get(o, 'attributeIndices', 'attribute_indices'),
        `${path}.attribute_indices`,
      ),
    };
  }

  line(v: unknown, path: string): Line {
    const o = this.obj(v, path);
    return {
      functionIndex: this.int(this.get(o, 'functionIndex', 'function_index'), `${path}.function_index`),
      line: this.big(this.get(o, 'line'), `${path}.line`, false),
      column: this.big(this.get(o, 'column'), `${path}.column`, false),
    };
  }

  fn(v: unknown, path: string): ProfileFunction {
    const o = this.obj(v, path);
    return {
      nameStrindex: this.int(this.get(o, 'nameStrindex', 'name_strindex'), `${path}.name_strindex`),
      systemNameStrindex: this.int(
        this.get(o, 'systemNameStrindex', 'system_name_strindex'),
        `${path}.system_name_strindex`,
      ),
      filenameStrindex: this.int(
        this.get(o, 'filenameStrindex', 'filename_strindex'),
        `${path}.filename_strindex`,
      ),
      startLine: this.big(this.get(o, 'startLine', 'start_line'), `${path}.start_line`, false),
    };
  }

  link(v: unknown, path: string): Link {
    const o = this.obj(v, path);
    return {
      traceId: this.bytes(this.get(o, 'traceId', 'trace_id'), `${path}.trace_id`, TRACE_ID_BYTES),
      spanId: this.bytes(this.get(o, 'spanId', 'span_id'), `${path}.span_id`, SPAN_ID_BYTES),
    };
  }

  keyValueAndUnit(v: unknown, path: string): KeyValueAndUnit {
    const o = this.obj(v, path);
    const out: KeyValueAndUnit = {
      keyStrindex: this.int(this.get(o, 'keyStrindex', 'key_strindex'), `${path}.key_strindex`),
      unitStrindex: this.int(this.get(o, 'unitStrindex', 'unit_strindex'), `${path}.unit_strindex`),
    };
    const value = this.get(o, 'value');
    if (value !== undefined) {
      const av = this.anyValue(value, `${path}.value`);
      if (av) out.value = av;
    }
    return out;
  }

  stack(v: unknown, path: string): Stack {
    const o = this.obj(v, path);
    return {
      locationIndices: this.int32s(
        this.get(o, 'locationIndices', 'location_indices'),
        `${path}.location_indices`,
      ),
    };
  }

  response(v: unknown): ExportProfilesServiceResponse {
    const o = this.obj(v ?? {}, '$');
    const ps = this.get(o, 'partialSuccess', 'partial_success');
    if (ps === undefined) return {};
    const p = this.obj(ps, 'partial_success');
    const partialSuccess: ExportProfilesPartialSuccess = {
      rejectedProfiles: this.big(
        this.get(p, 'rejectedProfiles', 'rejected_profiles'),
        'partial_success.rejected_profiles',
        false,
      ),
      errorMessage: this.str(this.get(p, 'errorMessage', 'error_message'), 'partial_success.error_message'),
    };
    return { partialSuccess };
  }
}

function isLongLike(v: unknown): v is { low: number; high: number } {
  return (
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Obj).low === 'number' &&
    typeof (v as Obj).high === 'number'
  );
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `"${truncate(v)}"`;
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return `${typeof v} ${v}`;
  return typeof v;
}

function truncate(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Normalises a plain-object request (see module doc). `source` prefixes error messages. */
export function reviveExportRequest(value: unknown, source: string): ExportProfilesServiceRequest {
  return new Reviver(source).request(value);
}

/** Normalises a plain-object response (see module doc). `source` prefixes error messages. */
export function reviveExportResponse(value: unknown, source: string): ExportProfilesServiceResponse {
  return new Reviver(source).response(value);
}
