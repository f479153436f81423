import type { GadgetRow } from '../src/rows/gadget-row.js';
import type { ProfileSpec } from '../src/rows/profile-spec.js';
import { DictionaryBuilder } from '../src/profiles/request/dictionary-builder.js';
import { DictionaryRemapper } from '../src/profiles/request/dictionary-remapper.js';
import type { ExportProfilesServiceRequest, Profile, Sample } from '../src/profiles/model/otlp-model.js';

/**
 * Comparison (b) of the bytes benchmark: the same OTLP data without our deduplication of samples
 * and stacks, as IG's Go `otel-profiles` operator builds it (inspektor-gadget.md §4.6): every row
 * becomes its own Sample (no merging of rows that differ only in thread or kernel_ip, nor across
 * fetches), and every Sample gets its own `stack_table` entry (no stack deduplication).
 *
 * Everything else stays ours, which is the conservative choice (IG's operator sends less
 * metadata per request, but also repeats it per fetch): the same resources and resource
 * attributes, the same deduplicated strings, functions, mappings, locations and attributes, the
 * same per-sample attributes and timestamps, the same flush window.
 *
 * How the per-row samples are obtained from our own pipeline: every row gets a unique tag field
 * that is declared a sample attribute, so the aggregator keeps each row as its own sample; the
 * transformation below then removes the tag attribute again and copies the request into a fresh
 * dictionary (only what is referenced), appending one stack entry per sample.
 */

/** Field added to every row so that no two rows merge. */
export const ROW_TAG_FIELD = 'bench_row_tag';

/** The rows with a unique tag each (shallow copies; `first` numbers them across a run). */
export function tagRows(rows: readonly GadgetRow[], first: number): GadgetRow[] {
  return rows.map((row, i) => ({ ...row, [ROW_TAG_FIELD]: first + i }));
}

/** `spec` with the tag as an extra sample attribute. */
export function taggedSpec(spec: ProfileSpec): ProfileSpec {
  return { ...spec, sampleAttributeFields: [...spec.sampleAttributeFields, ROW_TAG_FIELD] };
}

export interface EmulationOptions {
  /** Drop per-sample timestamps too (IG's operator sets none). */
  readonly withoutTimestamps?: boolean;
}

/** Turns a request built from tagged rows into IG-operator shape (see the file comment). */
export function withoutSampleAndStackDedup(
  request: ExportProfilesServiceRequest,
  options: EmulationOptions = {},
): ExportProfilesServiceRequest {
  const from = request.dictionary;
  const builder = new DictionaryBuilder();
  const remap = new DictionaryRemapper(from, builder);
  const tagKey = from.stringTable.indexOf(ROW_TAG_FIELD);
  const isTag = (attributeIndex: number): boolean =>
    from.attributeTable[attributeIndex]?.keyStrindex === tagKey;
  const stacks: number[][] = [];

  const sampleOf = (s: Sample): Sample => {
    const locations = (from.stackTable[s.stackIndex]?.locationIndices ?? []).map((l) => remap.location(l));
    stacks.push(locations);
    return {
      stackIndex: stacks.length, // entry 0 of the table is the zero stack
      attributeIndices: remap.attributes(s.attributeIndices.filter((a) => !isTag(a))),
      linkIndex: remap.link(s.linkIndex),
      values: s.values,
      timestampsUnixNano: options.withoutTimestamps ? [] : s.timestampsUnixNano,
    };
  };
  const profileOf = (p: Profile): Profile => ({
    ...p,
    ...remap.valueTypes(p),
    attributeIndices: remap.attributes(p.attributeIndices.filter((a) => !isTag(a))),
    samples: p.samples.map(sampleOf),
  });

  const resourceProfiles = request.resourceProfiles.map((rp) => ({
    ...rp,
    scopeProfiles: rp.scopeProfiles.map((sp) => ({ ...sp, profiles: sp.profiles.map(profileOf) })),
  }));
  const dictionary = builder.build();
  for (const locationIndices of stacks) dictionary.stackTable.push({ locationIndices });
  return { resourceProfiles, dictionary };
}
