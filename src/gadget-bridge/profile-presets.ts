import type { GadgetRow } from '../rows/gadget-row.js';
import { getField } from '../rows/gadget-row.js';
import type { ProfileSpec } from '../rows/profile-spec.js';

/**
 * Profile mappings for JSON input, which carries no datasource annotations. The presets repeat
 * what the gadgets' own gadget.yaml annotations say (inspektor-gadget.md §1.3, §2), and
 * `--annotate ds:profiles.key=value` overrides or defines mappings for any other gadget.
 */

/** profile_cpu samples at 49 Hz per CPU (baked into the gadget image, not a flag). */
export const PROFILE_CPU_FREQUENCY_HZ = 49;
/** IG's default `map-fetch-interval`. */
export const DEFAULT_FETCH_INTERVAL_NANO = 1_000_000_000n;

export function cpuPeriodNano(frequencyHz: number): bigint {
  return BigInt(Math.round(1e9 / frequencyHz));
}

export const PROFILE_CPU_SPEC: ProfileSpec = {
  datasource: 'samples',
  gadget: 'profile_cpu',
  profileName: 'process_cpu',
  sampleType: { type: 'samples', unit: 'count' },
  periodType: { type: 'cpu', unit: 'nanoseconds' },
  period: cpuPeriodNano(PROFILE_CPU_FREQUENCY_HZ),
  stackFields: ['kern_stack', 'user_stack_raw.symbols'],
  valueField: 'samples',
  sampleAttributeFields: ['runtime.containerName', 'proc.comm'],
};

/** profile_cuda counts bytes allocated per user stack; IG's operator names the period after the profile. */
export const PROFILE_CUDA_SPEC: ProfileSpec = {
  datasource: 'allocs',
  gadget: 'profile_cuda',
  profileName: 'process_cuda',
  sampleType: { type: 'malloc', unit: 'bytes' },
  periodType: { type: 'process_cuda', unit: 'bytes' },
  period: 1n,
  stackFields: ['ustack_raw.symbols'],
  valueField: 'count',
  sampleAttributeFields: ['proc.comm'],
};

const PRESETS: readonly ProfileSpec[] = [PROFILE_CPU_SPEC, PROFILE_CUDA_SPEC];

/** The gadgets with a built-in mapping (`--gadget` accepts these or an image reference of them). */
export const PRESET_GADGETS: readonly string[] = PRESETS.map((p) => p.gadget ?? p.datasource);

/**
 * The preset of a gadget named as IG names it: `profile_cpu`, or an image reference such as
 * `ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.40.0` (tag and digest optional).
 */
export function presetForGadget(gadget: string): ProfileSpec | undefined {
  const lastPart = gadget.trim().split('/').pop() ?? '';
  const name = lastPart.split('@')[0]?.split(':')[0] ?? '';
  return PRESETS.find((p) => p.gadget === name);
}

/** `combined-samples` (kubectl gadget's combiner) is the `samples` datasource. */
export function baseDatasourceName(name: string): string {
  return name.startsWith('combined-') ? name.slice('combined-'.length) : name;
}

/** Recognises a known gadget from the shape of one of its rows. */
export function detectPreset(row: GadgetRow): ProfileSpec | undefined {
  for (const preset of PRESETS) {
    if (getField(row, preset.valueField) === undefined) continue;
    if (preset.stackFields.some((f) => getField(row, f) !== undefined)) return preset;
  }
  return undefined;
}

/** One `--annotate` entry: `ds:profiles.key=value` (datasource) or `ds.field:profiles.key=value`. */
export interface Annotation {
  readonly datasource: string;
  readonly field?: string;
  readonly key: string;
  readonly value: string;
}

/** Parses IG's `--annotate` syntax; several entries may be comma-separated. */
export function parseAnnotations(values: readonly string[]): Annotation[] {
  const out: Annotation[] = [];
  for (const raw of values) {
    for (const item of raw.split(',')) {
      const entry = item.trim();
      if (!entry) continue;
      const colon = entry.indexOf(':');
      const eq = entry.indexOf('=', colon + 1);
      if (colon <= 0 || eq <= colon + 1) {
        throw new Error(
          `--annotate "${entry}": expected <datasource>:<key>=<value> or <datasource>.<field>:<key>=<value>, ` +
            `e.g. samples:profiles.value-field=samples`,
        );
      }
      const target = entry.slice(0, colon);
      const dot = target.indexOf('.');
      const annotation: Annotation = {
        datasource: dot === -1 ? target : target.slice(0, dot),
        key: entry.slice(colon + 1, eq).trim(),
        value: entry.slice(eq + 1).trim(),
        ...(dot === -1 ? {} : { field: target.slice(dot + 1) }),
      };
      out.push(annotation);
    }
  }
  return out;
}

function parseGoDurationNano(value: string): bigint | undefined {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)$/.exec(value.trim());
  if (!m) return /^\d+$/.test(value.trim()) ? BigInt(value.trim()) * 1_000_000n : undefined;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  return BigInt(Math.round(Number(m[1]) * (unit[m[2] ?? 's'] ?? 1e9)));
}

/** Applies `profiles.*` annotations for one datasource on top of a base spec (or builds one). */
export function applyAnnotations(
  datasource: string,
  base: ProfileSpec | undefined,
  annotations: readonly Annotation[],
): ProfileSpec | undefined {
  const mine = annotations.filter((a) => baseDatasourceName(a.datasource) === baseDatasourceName(datasource));
  if (mine.length === 0) return base;
  let spec: Partial<ProfileSpec> & { sampleAttributeFields: string[] } = {
    ...(base ?? {}),
    datasource,
    sampleAttributeFields: [...(base?.sampleAttributeFields ?? [])],
  };
  let explicitPeriod = false;
  for (const a of mine) {
    if (a.field !== undefined) {
      if (a.key === 'profiles.sample-attribute') {
        const fields = spec.sampleAttributeFields.filter((f) => f !== a.field);
        if (a.value === 'true') fields.push(a.field);
        spec.sampleAttributeFields = fields;
      }
      continue;
    }
    switch (a.key) {
      case 'profiles.stack-fields':
        spec = {
          ...spec,
          stackFields: a.value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        };
        break;
      case 'profiles.value-field':
        spec = { ...spec, valueField: a.value };
        break;
      case 'profiles.name':
        spec = { ...spec, profileName: a.value };
        break;
      case 'profiles.type':
        spec = { ...spec, sampleType: { type: a.value, unit: spec.sampleType?.unit ?? 'count' } };
        break;
      case 'profiles.unit':
        spec = { ...spec, sampleType: { type: spec.sampleType?.type ?? 'samples', unit: a.value } };
        break;
      case 'profiles.frequency': {
        const hz = Number(a.value);
        if (!(hz > 0))
          throw new Error(
            `--annotate ${datasource}:profiles.frequency=${a.value}: expected a positive number of Hz`,
          );
        spec = { ...spec, periodType: { type: 'cpu', unit: 'nanoseconds' }, period: cpuPeriodNano(hz) };
        explicitPeriod = true;
        break;
      }
      case 'profiles.trace-id-field':
        spec = { ...spec, traceIdField: a.value };
        break;
      case 'profiles.span-id-field':
        spec = { ...spec, spanIdField: a.value };
        break;
      case 'fetch-interval': {
        const ns = parseGoDurationNano(a.value);
        if (ns === undefined)
          throw new Error(
            `--annotate ${datasource}:fetch-interval=${a.value}: expected a duration like 1s or 500ms`,
          );
        spec = { ...spec, fetchIntervalNano: ns };
        break;
      }
      default:
        // Other IG annotations (columns.*, flamegraph.*) do not concern profiles.
        break;
    }
  }
  if (!spec.stackFields?.length || !spec.valueField) {
    throw new Error(
      `datasource "${datasource}": profiles need both profiles.stack-fields and profiles.value-field ` +
        `(e.g. --annotate ${datasource}:profiles.stack-fields=kern_stack --annotate ${datasource}:profiles.value-field=samples)`,
    );
  }
  const sampleType = spec.sampleType ?? { type: 'samples', unit: 'count' };
  const profileName = spec.profileName ?? datasource;
  // Like IG's operator: a non-sampling profile names its period after the profile (Pyroscope naming).
  const period =
    explicitPeriod || base?.periodType
      ? { periodType: spec.periodType, period: spec.period }
      : { periodType: { type: profileName, unit: sampleType.unit }, period: 1n };
  return {
    datasource,
    ...(spec.gadget !== undefined ? { gadget: spec.gadget } : {}),
    profileName,
    sampleType,
    ...(period.periodType ? { periodType: period.periodType, period: period.period ?? 1n } : {}),
    stackFields: spec.stackFields,
    valueField: spec.valueField,
    sampleAttributeFields: spec.sampleAttributeFields,
    ...(spec.fetchIntervalNano !== undefined ? { fetchIntervalNano: spec.fetchIntervalNano } : {}),
    ...(spec.traceIdField !== undefined ? { traceIdField: spec.traceIdField } : {}),
    ...(spec.spanIdField !== undefined ? { spanIdField: spec.spanIdField } : {}),
  };
}

export interface SpecHint {
  readonly datasource?: string;
  readonly gadget?: string;
  readonly row: GadgetRow;
}

/**
 * The spec resolver handed to JSON sources: annotations first, then a preset recognised by
 * gadget name, datasource name or row shape. Cached per datasource name.
 */
export function createSpecResolver(
  annotations: readonly Annotation[],
  options: { readonly gadget?: string; readonly fetchIntervalNano?: bigint } = {},
): (hint: SpecHint) => ProfileSpec | undefined {
  const cache = new Map<string, ProfileSpec | undefined>();
  return (hint) => {
    const gadget = hint.gadget ?? options.gadget;
    const byGadget = gadget ? presetForGadget(gadget) : undefined;
    const preset = byGadget ?? detectPreset(hint.row);
    const datasource = baseDatasourceName(hint.datasource ?? preset?.datasource ?? 'samples');
    const cacheKey = `${gadget ?? ''}\u0000${datasource}\u0000${preset?.gadget ?? ''}`;
    if (cache.has(cacheKey)) return cache.get(cacheKey);
    let spec: ProfileSpec | undefined;
    try {
      spec = applyAnnotations(datasource, preset ? { ...preset, datasource } : undefined, annotations);
    } catch {
      // Incomplete annotations for a datasource without a preset: no mapping; the source warns once.
      spec = undefined;
    }
    if (spec && options.fetchIntervalNano !== undefined && spec.fetchIntervalNano === undefined) {
      spec = { ...spec, fetchIntervalNano: options.fetchIntervalNano };
    }
    cache.set(cacheKey, spec);
    return spec;
  };
}
