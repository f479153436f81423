import { DictionaryBuilder } from './dictionary-builder.js';
import { DictionaryRemapper } from './dictionary-remapper.js';
import { encodeExportRequest } from '../encoding/encode-request.js';
import type {
  ExportProfilesServiceRequest,
  Profile,
  ResourceProfiles,
  ScopeProfiles,
} from '../model/otlp-model.js';
import { newProfileId } from './request-generator.js';

/**
 * Cuts a request into pieces that respect the backend's limits: no Profile holds more than
 * `maxSamplesPerProfile` samples and no encoded piece exceeds `maxRequestBytes`. Each piece gets a
 * fresh dictionary holding only what it references (see DictionaryRemapper).
 */

/** Target fill of a piece when choosing how many pieces to cut, leaving room for dictionary overlap. */
const PIECE_FILL_TARGET = 0.85;

export interface SplitLimits {
  readonly maxRequestBytes: number;
  readonly maxSamplesPerProfile: number;
  /**
   * A lone sample larger than `maxRequestBytes` becomes a piece of its own instead of a drop: for
   * a limit that is only a guess (the backend's, learned from its refusals), the backend decides.
   */
  readonly keepOversized?: boolean;
}

export interface EncodedRequest {
  readonly request: ExportProfilesServiceRequest;
  /** Uncompressed protobuf encoding of `request`. */
  readonly bytes: Uint8Array;
  readonly profiles: number;
  readonly samples: number;
}

export interface SplitResult {
  readonly pieces: EncodedRequest[];
  /** Samples that alone exceed the size limit (counted and reported by the caller). */
  readonly droppedSamples: number;
  readonly droppedProfiles: number;
}

/** One profile with the resource and scope it belongs to. */
interface Unit {
  readonly resource: ResourceProfiles;
  readonly scope: ScopeProfiles;
  readonly profile: Profile;
}

function unitsOf(request: ExportProfilesServiceRequest, maxSamples: number): { units: Unit[]; cut: boolean } {
  const units: Unit[] = [];
  let cut = false;
  for (const resource of request.resourceProfiles) {
    for (const scope of resource.scopeProfiles) {
      for (const profile of scope.profiles) {
        if (maxSamples > 0 && profile.samples.length > maxSamples) {
          cut = true;
          for (let i = 0; i < profile.samples.length; i += maxSamples) {
            units.push({
              resource,
              scope,
              profile: {
                ...profile,
                profileId: newProfileId(),
                samples: profile.samples.slice(i, i + maxSamples),
              },
            });
          }
        } else {
          units.push({ resource, scope, profile });
        }
      }
    }
  }
  return { units, cut };
}

/** Builds a request from units with a fresh dictionary, keeping resource and scope grouping. */
function assemble(units: readonly Unit[], from: ExportProfilesServiceRequest): ExportProfilesServiceRequest {
  const builder = new DictionaryBuilder();
  const remap = new DictionaryRemapper(from.dictionary, builder);
  const resources = new Map<
    ResourceProfiles,
    { out: ResourceProfiles; scopes: Map<ScopeProfiles, ScopeProfiles> }
  >();
  const resourceProfiles: ResourceProfiles[] = [];
  for (const unit of units) {
    let r = resources.get(unit.resource);
    if (!r) {
      const out: ResourceProfiles = { ...unit.resource, scopeProfiles: [] };
      r = { out, scopes: new Map() };
      resources.set(unit.resource, r);
      resourceProfiles.push(out);
    }
    let scope = r.scopes.get(unit.scope);
    if (!scope) {
      scope = { ...unit.scope, profiles: [] };
      r.scopes.set(unit.scope, scope);
      r.out.scopeProfiles.push(scope);
    }
    const p = unit.profile;
    scope.profiles.push({
      ...p,
      ...remap.valueTypes(p),
      attributeIndices: remap.attributes(p.attributeIndices),
      samples: p.samples.map((s) => ({
        stackIndex: remap.stack(s.stackIndex),
        attributeIndices: remap.attributes(s.attributeIndices),
        linkIndex: remap.link(s.linkIndex),
        values: s.values,
        timestampsUnixNano: s.timestampsUnixNano,
      })),
    });
  }
  return { resourceProfiles, dictionary: builder.build() };
}

function countSamples(units: readonly Unit[]): number {
  let n = 0;
  for (const u of units) n += u.profile.samples.length;
  return n;
}

export function splitRequest(
  request: ExportProfilesServiceRequest,
  limits: SplitLimits,
  encode: (r: ExportProfilesServiceRequest) => Uint8Array = encodeExportRequest,
): SplitResult {
  const { units, cut } = unitsOf(request, limits.maxSamplesPerProfile);
  const pieces: EncodedRequest[] = [];
  let droppedSamples = 0;
  let droppedProfiles = 0;

  const emit = (req: ExportProfilesServiceRequest, bytes: Uint8Array, group: readonly Unit[]): void => {
    pieces.push({ request: req, bytes, profiles: group.length, samples: countSamples(group) });
  };

  const pack = (group: readonly Unit[], req: ExportProfilesServiceRequest): void => {
    const bytes = encode(req);
    if (bytes.length <= limits.maxRequestBytes) {
      emit(req, bytes, group);
      return;
    }
    if (group.length > 1) {
      const wanted = Math.ceil(bytes.length / (limits.maxRequestBytes * PIECE_FILL_TARGET));
      const parts = Math.min(group.length, Math.max(2, wanted));
      const perPart = countSamples(group) / parts;
      let current: Unit[] = [];
      let filled = 0;
      const chunks: Unit[][] = [];
      for (const unit of group) {
        current.push(unit);
        filled += unit.profile.samples.length;
        if (filled >= perPart && chunks.length < parts - 1) {
          chunks.push(current);
          current = [];
          filled = 0;
        }
      }
      if (current.length) chunks.push(current);
      // Uneven sample counts can leave everything in one chunk: split by unit count to make progress.
      if (chunks.length < 2) {
        const half = Math.ceil(group.length / 2);
        chunks.splice(0, chunks.length, group.slice(0, half), group.slice(half));
      }
      for (const chunk of chunks) pack(chunk, assemble(chunk, request));
      return;
    }
    const only = group[0];
    if (!only) return;
    const samples = only.profile.samples;
    if (samples.length > 1) {
      const half = Math.ceil(samples.length / 2);
      for (const part of [samples.slice(0, half), samples.slice(half)]) {
        const unit: Unit = {
          ...only,
          profile: { ...only.profile, profileId: newProfileId(), samples: part },
        };
        pack([unit], assemble([unit], request));
      }
      return;
    }
    // A single sample (one stack) larger than the limit cannot be sent anywhere within it.
    if (limits.keepOversized) {
      emit(req, bytes, group);
      return;
    }
    droppedSamples += samples.length;
    droppedProfiles += 1;
  };

  if (!cut) pack(units, request);
  else pack(units, assemble(units, request));
  return { pieces, droppedSamples, droppedProfiles };
}
