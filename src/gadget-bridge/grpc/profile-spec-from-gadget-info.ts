import { parse as parseYaml } from 'yaml';
import { cpuPeriodNano, PROFILE_CPU_FREQUENCY_HZ } from '../profile-presets.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import type { DataSource, GadgetInfo } from './gadget-messages.js';
import { FIELD_FLAG_UNREFERENCED } from './gadget-messages.js';
import { parseGoDuration } from './go-duration.js';

/**
 * Maps a datasource of a running gadget onto a ProfileSpec from the same annotations IG's own
 * `otel-profiles` operator reads (inspektor-gadget.md §4.3), plus ours:
 *
 * | annotation (datasource unless noted)      | meaning                                   | default          |
 * |-------------------------------------------|-------------------------------------------|------------------|
 * | `profiles.stack-fields`                   | comma list of leaf-first stack fields     | required         |
 * | `profiles.value-field`                    | integer field with the sample value       | required         |
 * | `profiles.name` / `.type` / `.unit`       | profile name, sample type and unit        | ds name / samples / count |
 * | field `profiles.sample-attribute: "true"` | field becomes a sample attribute          |                  |
 * | `fetch-interval` (set by IG)              | Go duration between map fetches           | unset            |
 * | `profiles.frequency` (ours)               | sampling frequency in Hz, overrides gadget.yaml | from metadata |
 * | `profiles.trace-id-field` (ours)          | field with a W3C trace id (hex)           | unset            |
 * | `profiles.span-id-field` (ours)           | field with a W3C span id (hex)            | unset            |
 *
 * Sampling gadgets (a `sampler.frequency` in gadget.yaml, profile_cpu: 49 Hz) get
 * `periodType {cpu, nanoseconds}` and `period = round(1e9/Hz)`. Others follow IG's operator:
 * `periodType {profiles.name, profiles.unit}`, `period = 1`.
 */

export const ANNOTATION_STACK_FIELDS = 'profiles.stack-fields';
export const ANNOTATION_VALUE_FIELD = 'profiles.value-field';
export const ANNOTATION_NAME = 'profiles.name';
export const ANNOTATION_TYPE = 'profiles.type';
export const ANNOTATION_UNIT = 'profiles.unit';
export const ANNOTATION_SAMPLE_ATTRIBUTE = 'profiles.sample-attribute';
export const ANNOTATION_FREQUENCY = 'profiles.frequency';
export const ANNOTATION_TRACE_ID_FIELD = 'profiles.trace-id-field';
export const ANNOTATION_SPAN_ID_FIELD = 'profiles.span-id-field';
export const ANNOTATION_FETCH_INTERVAL = 'fetch-interval';

/** IG's defaults for `profiles.type` / `profiles.unit`. */
export const DEFAULT_SAMPLE_TYPE = 'samples';
export const DEFAULT_SAMPLE_UNIT = 'count';

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value.trim()) : NaN;
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

/**
 * The sampler frequency (Hz) declared in a gadget's gadget.yaml, wherever the `sampler` block
 * sits (top level, under `programs.<name>`, or as a dotted `sampler.frequency` key); the first
 * one in document order wins. Undefined when the metadata declares none or is not YAML.
 */
export function samplerFrequencyHz(metadata: Uint8Array | string): number | undefined {
  const text = typeof metadata === 'string' ? metadata : new TextDecoder().decode(metadata);
  if (text.trim() === '') return undefined;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return undefined;
  }
  const visit = (node: unknown, depth: number): number | undefined => {
    if (depth > 32 || node === null || typeof node !== 'object') return undefined;
    if (Array.isArray(node)) {
      for (const item of node) {
        const hz = visit(item, depth + 1);
        if (hz !== undefined) return hz;
      }
      return undefined;
    }
    for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
      if (key === 'sampler.frequency') {
        const hz = positiveNumber(value);
        if (hz !== undefined) return hz;
      }
      if (key === 'sampler' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
        const hz = positiveNumber((value as Record<string, unknown>).frequency);
        if (hz !== undefined) return hz;
      }
      const hz = visit(value, depth + 1);
      if (hz !== undefined) return hz;
    }
    return undefined;
  };
  return visit(doc, 0);
}

/** Whether the gadget is IG's profile_cpu (by name or image reference). */
function isProfileCpu(info: GadgetInfo): boolean {
  if (info.name === 'profile_cpu') return true;
  const image = info.imageName.split('@')[0] ?? '';
  const repo = image.replace(/:[^/:]*$/, '');
  return repo === 'profile_cpu' || repo.endsWith('/profile_cpu');
}

/**
 * The ProfileSpec of one datasource, or undefined when it lacks `profiles.stack-fields` or
 * `profiles.value-field` (not a profile source). Throws on malformed `profiles.frequency` /
 * `fetch-interval` values, naming the datasource and annotation.
 */
export function profileSpecFromDataSource(info: GadgetInfo, ds: DataSource): ProfileSpec | undefined {
  const a = ds.annotations;
  const stackFields = (a[ANNOTATION_STACK_FIELDS] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const valueField = (a[ANNOTATION_VALUE_FIELD] ?? '').trim();
  if (stackFields.length === 0 || valueField === '') return undefined;

  const profileName = a[ANNOTATION_NAME]?.trim() || ds.name;
  const sampleType = {
    type: a[ANNOTATION_TYPE]?.trim() || DEFAULT_SAMPLE_TYPE,
    unit: a[ANNOTATION_UNIT]?.trim() || DEFAULT_SAMPLE_UNIT,
  };
  const sampleAttributeFields = ds.fields
    .filter(
      (f) =>
        (f.flags & FIELD_FLAG_UNREFERENCED) === 0 && f.annotations[ANNOTATION_SAMPLE_ATTRIBUTE] === 'true',
    )
    .map((f) => f.fullName || f.name);

  let frequencyHz: number | undefined;
  const explicit = a[ANNOTATION_FREQUENCY];
  if (explicit !== undefined) {
    frequencyHz = positiveNumber(explicit);
    if (frequencyHz === undefined) {
      throw new Error(
        `gadget ${info.imageName || info.name}, datasource "${ds.name}": annotation ${ANNOTATION_FREQUENCY}=` +
          `"${explicit}" is not a positive number of Hz (e.g. --annotate ${ds.name}:${ANNOTATION_FREQUENCY}=49)`,
      );
    }
  } else {
    frequencyHz = samplerFrequencyHz(info.metadata);
    // profile_cpu's 49 Hz is baked into its image; keep it when the metadata is not available.
    if (frequencyHz === undefined && isProfileCpu(info)) frequencyHz = PROFILE_CPU_FREQUENCY_HZ;
  }
  const period =
    frequencyHz !== undefined
      ? { periodType: { type: 'cpu', unit: 'nanoseconds' }, period: cpuPeriodNano(frequencyHz) }
      : { periodType: { type: profileName, unit: sampleType.unit }, period: 1n };

  let fetchIntervalNano: bigint | undefined;
  const interval = a[ANNOTATION_FETCH_INTERVAL];
  if (interval !== undefined && interval.trim() !== '') {
    fetchIntervalNano = parseGoDuration(interval);
    if (fetchIntervalNano === undefined || fetchIntervalNano < 0n) {
      throw new Error(
        `gadget ${info.imageName || info.name}, datasource "${ds.name}": annotation ${ANNOTATION_FETCH_INTERVAL}=` +
          `"${interval}" is not a Go duration (e.g. 1s, 500ms, 0)`,
      );
    }
  }
  const traceIdField = a[ANNOTATION_TRACE_ID_FIELD]?.trim();
  const spanIdField = a[ANNOTATION_SPAN_ID_FIELD]?.trim();
  const gadget = info.name || info.imageName;

  return {
    datasource: ds.name,
    ...(gadget ? { gadget } : {}),
    profileName,
    sampleType,
    ...period,
    stackFields,
    valueField,
    sampleAttributeFields,
    ...(fetchIntervalNano !== undefined ? { fetchIntervalNano } : {}),
    ...(traceIdField ? { traceIdField } : {}),
    ...(spanIdField ? { spanIdField } : {}),
  };
}
