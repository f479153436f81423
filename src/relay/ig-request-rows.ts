import type { FieldValue, GadgetRow } from '../rows/gadget-row.js';
import { gadgetRow } from '../rows/gadget-row.js';
import { PROFILE_CPU_SPEC, PROFILE_CUDA_SPEC } from '../gadget-bridge/profile-presets.js';
import type { ProfileSpec } from '../rows/profile-spec.js';
import type {
  AnyValue,
  ExportProfilesServiceRequest,
  KeyValue,
  Profile,
  ProfilesDictionary,
} from '../profiles/model/otlp-model.js';

/**
 * Turns what IG's otel-profiles operator sends (inspektor-gadget.md §4.6) back into the rows IG's JSON
 * output shows, so relay runs them through exactly the pipeline of the other inputs:
 * - the frames of a stack are IG's stack fields split on `"; "` and concatenated, each field ending in
 *   an empty frame: the empty frames cut the list back into the fields (`kern_stack`,
 *   `user_stack_raw.symbols`), written as IG's strings (`"a; b; "`), which the JSON path then cleans;
 * - sample attributes keep IG's field names (`proc.comm`, `k8s.podName`), the names the resource
 *   builder reads, so resources come out per process/container as for the other inputs;
 * - the value is the sum of the Sample's values (IG sends one), or its timestamp count without values.
 */

/** What IG puts in service.name and the scope name; requests from anyone else are not IG-shaped. */
export const IG_SERVICE_NAME = 'inspektor-gadget';
/** Row field (and sample attribute) carrying the IG version the request came from. */
export const IG_VERSION_FIELD = 'inspektor_gadget.version';

/** Specs of the gadgets whose profile name (IG's period_type.type) we recognise. */
const SPECS_BY_PROFILE_NAME: ReadonlyMap<string, ProfileSpec> = new Map(
  [PROFILE_CPU_SPEC, PROFILE_CUDA_SPEC].map((spec) => [spec.profileName, spec]),
);
/** Stack and value field of a profile we have no preset for. */
const GENERIC_STACK_FIELD = 'stack';
const GENERIC_VALUE_FIELD = 'value';

/** One profile of a request as rows, with the spec they follow (before attribution fields are added). */
export interface ProfileRows {
  readonly baseSpec: ProfileSpec;
  readonly rows: GadgetRow[];
  /** Attribute keys seen on the samples. */
  readonly attributeKeys: ReadonlySet<string>;
  /** `resource_profiles[0].scope_profiles[0].profiles[0]`. */
  readonly path: string;
}

/**
 * Why a request is not IG-shaped (some resource is neither `service.name=inspektor-gadget` nor only
 * IG scopes), or undefined when it is. Such requests are forwarded as they came.
 */
export function notIgShaped(request: ExportProfilesServiceRequest): string | undefined {
  for (const [ri, rp] of request.resourceProfiles.entries()) {
    const service = attributeString(rp.resource?.attributes ?? [], 'service.name');
    const scopes = rp.scopeProfiles.map((sp) => sp.scope?.name);
    if (service === IG_SERVICE_NAME || scopes.every((name) => name === IG_SERVICE_NAME)) continue;
    return `resource_profiles[${ri}] has service.name ${JSON.stringify(service ?? '')}`;
  }
  return undefined;
}

function attributeString(attributes: readonly KeyValue[], key: string): string | undefined {
  const value = attributes.find((kv) => kv.key === key)?.value;
  return value && 'stringValue' in value ? value.stringValue : undefined;
}

/** The IG version a resource profile names (service.version, else the scope version). */
function igVersion(request: ExportProfilesServiceRequest, ri: number, si: number): string | undefined {
  const rp = request.resourceProfiles[ri];
  const version = attributeString(rp?.resource?.attributes ?? [], 'service.version');
  return version || rp?.scopeProfiles[si]?.scope?.version || undefined;
}

/** A profile's spec: the preset of its profile name, else one built from the request. */
function baseSpecOf(profile: Profile, strings: readonly string[]): ProfileSpec {
  const profileName = strings[profile.periodType?.typeStrindex ?? 0] || 'profile';
  const preset = SPECS_BY_PROFILE_NAME.get(profileName);
  if (preset) return preset;
  return {
    datasource: profileName,
    profileName,
    sampleType: {
      type: strings[profile.sampleType?.typeStrindex ?? 0] || 'samples',
      unit: strings[profile.sampleType?.unitStrindex ?? 0] || 'count',
    },
    stackFields: [GENERIC_STACK_FIELD],
    valueField: GENERIC_VALUE_FIELD,
    sampleAttributeFields: [],
  };
}

/** An attribute value as the row field IG's JSON would hold (integers past 2^53 as bigint). */
function fieldValue(value: AnyValue | undefined, strings: readonly string[]): FieldValue {
  if (value === undefined) return null;
  if ('stringValue' in value) return value.stringValue;
  if ('intValue' in value) {
    const n = value.intValue;
    return n <= BigInt(Number.MAX_SAFE_INTEGER) && n >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  }
  if ('boolValue' in value) return value.boolValue;
  if ('doubleValue' in value) return value.doubleValue;
  if ('stringValueStrindex' in value) return strings[value.stringValueStrindex] ?? '';
  if ('bytesValue' in value) return Buffer.from(value.bytesValue).toString('hex');
  return JSON.stringify(value, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
}

/** The frame names of a stack, leaf first; a location without a line shows its address as IG would (`0x…`). */
function frameNames(dictionary: ProfilesDictionary, stackIndex: number): string[] {
  const strings = dictionary.stringTable;
  const names: string[] = [];
  for (const li of dictionary.stackTable[stackIndex]?.locationIndices ?? []) {
    const location = dictionary.locationTable[li];
    const line = location?.lines[0];
    if (line === undefined) {
      names.push(location && location.address !== 0n ? `0x${location.address.toString(16)}` : '');
      continue;
    }
    names.push(strings[dictionary.functionTable[line.functionIndex]?.nameStrindex ?? 0] ?? '');
  }
  return names;
}

/**
 * Cuts the concatenated frames back into IG's stack field strings: each empty frame ends one field
 * (IG's split of `"a; b; "` leaves it), the last field takes the rest. `["k", "", "u", ""]` over two
 * fields is `"k; "` and `"u; "`.
 */
export function stackFieldStrings(names: readonly string[], fieldCount: number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const name of names) {
    if (name === '' && out.length < fieldCount - 1) {
      out.push(current.length ? current.join('; ') + '; ' : '');
      current = [];
    } else {
      current.push(name);
    }
  }
  out.push(current.join('; '));
  while (out.length < fieldCount) out.push('');
  return out;
}

/**
 * The rows of every profile the caller accepts. Indices were checked by the conformance validator
 * before (out-of-range ones reject the request or the profile), so lookups here only guard.
 */
export function requestRows(
  request: ExportProfilesServiceRequest,
  accepted: (ri: number, si: number, pi: number) => boolean,
): ProfileRows[] {
  const { dictionary } = request;
  const strings = dictionary.stringTable;
  const out: ProfileRows[] = [];
  request.resourceProfiles.forEach((rp, ri) =>
    rp.scopeProfiles.forEach((sp, si) =>
      sp.profiles.forEach((profile, pi) => {
        if (!accepted(ri, si, pi)) return;
        const baseSpec = baseSpecOf(profile, strings);
        const version = igVersion(request, ri, si);
        const attributeKeys = new Set<string>();
        const rows: GadgetRow[] = [];
        for (const sample of profile.samples) {
          const row: Record<string, FieldValue> = {};
          for (const ai of sample.attributeIndices) {
            const kv = dictionary.attributeTable[ai];
            const key = strings[kv?.keyStrindex ?? 0];
            if (!kv || !key) continue;
            row[key] = fieldValue(kv.value, strings);
            attributeKeys.add(key);
          }
          if (version !== undefined) row[IG_VERSION_FIELD] = version;
          const fields = stackFieldStrings(
            frameNames(dictionary, sample.stackIndex),
            baseSpec.stackFields.length,
          );
          baseSpec.stackFields.forEach((field, i) => (row[field] = fields[i] ?? ''));
          const value =
            sample.values.length > 0
              ? sample.values.reduce((sum, v) => sum + v, 0n)
              : BigInt(sample.timestampsUnixNano.length);
          row[baseSpec.valueField] =
            value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)
              ? Number(value)
              : value;
          rows.push(gadgetRow(row));
        }
        if (version !== undefined) attributeKeys.add(IG_VERSION_FIELD);
        out.push({
          baseSpec,
          rows,
          attributeKeys,
          path: `resource_profiles[${ri}].scope_profiles[${si}].profiles[${pi}]`,
        });
      }),
    ),
  );
  return out;
}
