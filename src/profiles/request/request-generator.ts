import type { SampleConfig } from '../../config/exporter-config.js';
import { randomFillSync } from 'node:crypto';
import { EXPORTER_NAME, EXPORTER_VERSION } from '../../util/version.js';
import { DictionaryBuilder } from './dictionary-builder.js';
import { keyValueKey } from '../model/any-value-key.js';
import type {
  ExportProfilesServiceRequest,
  KeyValue,
  Profile,
  ResourceProfiles,
  Sample,
} from '../model/otlp-model.js';
import type { ResourceResolver } from '../aggregation/resource-attributes.js';
import { INT64_MAX } from '../model/int64.js';
import { PROFILE_ID_BYTES } from '../model/otlp-ids.js';
import type {
  AggregateSnapshot,
  ProfileEntry,
  SampleAttributes,
  SampleEntry,
} from '../aggregation/sample-aggregator.js';
import type { Frame } from '../aggregation/stack-frames.js';

/**
 * Turns one aggregation snapshot into one ExportProfilesServiceRequest with a single shared,
 * fully deduplicated dictionary (the splitter later cuts it to size). One ResourceProfiles per
 * resource, one ScopeProfiles naming this exporter, one Profile per profile type.
 */

/** Semantic-conventions version the attribute names follow. */
export const SCHEMA_URL = 'https://opentelemetry.io/schemas/1.37.0';
export const FRAME_TYPE_ATTRIBUTE = 'profile.frame.type';
export const GNU_BUILD_ID_ATTRIBUTE = 'process.executable.build_id.gnu';

export interface GenerateOptions {
  readonly resources: ResourceResolver;
  /** See SampleConfig.merge. */
  readonly sampleMerge: SampleConfig['merge'];
}

/**
 * Random bytes drawn at once for profile ids (256 ids): one randomFillSync call costs ~5 µs however
 * small, and a flush makes an id per resource and profile: hundreds, ~0.3 µs per row on the bench capture.
 */
const PROFILE_ID_POOL_BYTES = 4096;
let profileIdPool = new Uint8Array(0);
let profileIdPoolAt = 0;

/** Random 16-byte profile id (all-zero is invalid, and vanishingly unlikely). */
export function newProfileId(): Uint8Array {
  if (profileIdPoolAt + PROFILE_ID_BYTES > profileIdPool.length) {
    profileIdPool = randomFillSync(new Uint8Array(PROFILE_ID_POOL_BYTES));
    profileIdPoolAt = 0;
  }
  // A copy: ids must not share memory (an encoder or a caller may keep one).
  const id = profileIdPool.slice(profileIdPoolAt, profileIdPoolAt + PROFILE_ID_BYTES);
  profileIdPoolAt += PROFILE_ID_BYTES;
  if (id.every((b) => b === 0)) id[PROFILE_ID_BYTES - 1] = 1;
  return id;
}

/**
 * Locations for frames within one request. Frames are interned by the aggregator (equal frames are
 * one object for the whole flush), so object identity is an exact dedup key and the dictionary's
 * value keys are not needed for locations; functions, mappings and frame-type attributes are
 * cached per name here because thousands of locations share them.
 */
class FrameLocations {
  private readonly _byFrame = new Map<Frame, number>();
  private readonly _functions = new Map<string, number>();
  private readonly _mappings = new Map<string, number>();
  private readonly _frameTypes = new Map<string, number>();
  /** Samples share frame arrays (the aggregator caches parsed stacks): one lookup per array. */
  private readonly _stacks = new Map<readonly Frame[], number>();

  constructor(private readonly _dict: DictionaryBuilder) {}

  stackOf(frames: readonly Frame[]): number {
    let index = this._stacks.get(frames);
    if (index === undefined) {
      index = this._dict.stack(frames.map((f) => this.locationOf(f)));
      this._stacks.set(frames, index);
    }
    return index;
  }

  locationOf(frame: Frame): number {
    const known = this._byFrame.get(frame);
    if (known !== undefined) return known;
    const index = this._dict.appendUniqueLocation({
      mappingIndex: this._mappingOf(frame),
      address: frame.address ?? 0n,
      lines:
        frame.functionName !== undefined
          ? [{ functionIndex: this._functionOf(frame.functionName), line: 0n, column: 0n }]
          : [],
      attributeIndices: [this._frameTypeOf(frame.frameType)],
    });
    this._byFrame.set(frame, index);
    return index;
  }

  private _functionOf(name: string): number {
    let index = this._functions.get(name);
    if (index === undefined) {
      index = this._dict.function(name);
      this._functions.set(name, index);
    }
    return index;
  }

  private _mappingOf(frame: Frame): number {
    if (frame.module === undefined && frame.buildId === undefined) return 0;
    const key = `${frame.module ?? ''}\u0000${frame.buildId ?? ''}`;
    let index = this._mappings.get(key);
    if (index === undefined) {
      const attrs = frame.buildId
        ? [this._dict.attribute(GNU_BUILD_ID_ATTRIBUTE, { stringValue: frame.buildId })]
        : [];
      index = this._dict.mapping(frame.module ?? '', attrs);
      this._mappings.set(key, index);
    }
    return index;
  }

  private _frameTypeOf(frameType: string): number {
    let index = this._frameTypes.get(frameType);
    if (index === undefined) {
      index = this._dict.attribute(FRAME_TYPE_ATTRIBUTE, { stringValue: frameType });
      this._frameTypes.set(frameType, index);
    }
    return index;
  }
}

/** `key=value` of each attribute of a resource's list (lists are shared: see attributesOf). */
const attributeKeySets = new WeakMap<readonly KeyValue[], ReadonlySet<string>>();

function attributeKeysOf(attributes: readonly KeyValue[]): ReadonlySet<string> {
  let keys = attributeKeySets.get(attributes);
  if (keys === undefined) {
    keys = new Set(attributes.map((kv) => keyValueKey(kv.key, kv.value)));
    attributeKeySets.set(attributes, keys);
  }
  return keys;
}

function samplesOf(
  entry: SampleEntry,
  stackIndex: number,
  attributeIndices: number[],
  linkIndex: number,
  merge: GenerateOptions['sampleMerge'],
  out: Sample[],
): void {
  if (merge === 'flush') {
    // One observation per flush: the total, stamped with the start of the first fetch it covers.
    // A total past int64 (each value fits) goes on in another Sample rather than wrapping.
    const first = entry.timestamps[0] ?? 0n;
    let total = 0n;
    for (const v of entry.values) {
      const next = total + BigInt(v);
      if (next > INT64_MAX) {
        out.push({ stackIndex, attributeIndices, linkIndex, values: [total], timestampsUnixNano: [first] });
        total = BigInt(v);
      } else total = next;
    }
    out.push({ stackIndex, attributeIndices, linkIndex, values: [total], timestampsUnixNano: [first] });
    return;
  }
  if (merge === 'identity') {
    out.push({
      stackIndex,
      attributeIndices,
      linkIndex,
      values: entry.values.map((v) => BigInt(v)),
      timestampsUnixNano: [...entry.timestamps],
    });
    return;
  }
  for (let i = 0; i < entry.values.length; i++) {
    out.push({
      stackIndex,
      attributeIndices,
      linkIndex,
      values: [BigInt(entry.values[i] ?? 0)],
      timestampsUnixNano: [entry.timestamps[i] ?? 0n],
    });
  }
}

function buildProfile(
  profile: ProfileEntry,
  dict: DictionaryBuilder,
  frames: FrameLocations,
  resourceAttributeKeys: ReadonlySet<string>,
  options: GenerateOptions,
): Profile {
  const spec = profile.spec;
  const samples: Sample[] = [];
  // Samples with equal attributes share one list (see SampleAttributes): map each list once.
  const indicesOf = new Map<SampleAttributes, number[]>();
  for (const entry of profile.samples.values()) {
    const stackIndex = frames.stackOf(entry.frames);
    let attributeIndices = indicesOf.get(entry.attributes);
    if (attributeIndices === undefined) {
      attributeIndices = [];
      // A sample attribute that repeats its resource's attribute says nothing new.
      for (const [k, v] of entry.attributes) {
        if (!resourceAttributeKeys.has(keyValueKey(k, v))) attributeIndices.push(dict.attribute(k, v));
      }
      indicesOf.set(entry.attributes, attributeIndices);
    }
    const linkIndex = entry.traceId && entry.spanId ? dict.link(entry.traceId, entry.spanId) : 0;
    samplesOf(entry, stackIndex, attributeIndices, linkIndex, options.sampleMerge, samples);
  }
  return {
    sampleType: {
      typeStrindex: dict.string(spec.sampleType.type),
      unitStrindex: dict.string(spec.sampleType.unit),
    },
    samples,
    timeUnixNano: profile.windowStart,
    durationNano: profile.windowEnd - profile.windowStart,
    ...(spec.periodType
      ? {
          periodType: {
            typeStrindex: dict.string(spec.periodType.type),
            unitStrindex: dict.string(spec.periodType.unit),
          },
        }
      : {}),
    period: spec.period ?? 0n,
    profileId: newProfileId(),
    attributeIndices: [],
  };
}

/** Builds the request for a snapshot; undefined when there is nothing to send (no empty envelopes). */
export function generateRequest(
  snapshot: AggregateSnapshot,
  options: GenerateOptions,
): ExportProfilesServiceRequest | undefined {
  if (snapshot.resources.size === 0) return undefined;
  const dict = new DictionaryBuilder();
  const frames = new FrameLocations(dict);
  const resourceProfiles: ResourceProfiles[] = [];
  for (const resource of snapshot.resources.values()) {
    const attributes = options.resources.attributesOf(resource.observation);
    const resourceAttributeKeys = attributeKeysOf(attributes);
    const profiles: Profile[] = [];
    for (const profile of resource.profiles.values()) {
      profiles.push(buildProfile(profile, dict, frames, resourceAttributeKeys, options));
    }
    resourceProfiles.push({
      resource: { attributes },
      scopeProfiles: [
        { scope: { name: EXPORTER_NAME, version: EXPORTER_VERSION }, profiles, schemaUrl: SCHEMA_URL },
      ],
      schemaUrl: SCHEMA_URL,
    });
  }
  return { resourceProfiles, dictionary: dict.build() };
}
