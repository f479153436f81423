import type {
  ExportProfilesServiceRequest,
  KeyValueAndUnit,
  Profile,
  ProfilesDictionary,
  Sample,
  ValueType,
} from '../model/otlp-model.js';
import { emptyDictionary } from '../model/otlp-model.js';
import { anyValueKey } from '../model/any-value-key.js';
import { PROFILE_ID_BYTES, SPAN_ID_BYTES, TRACE_ID_BYTES } from '../model/otlp-ids.js';

/**
 * Conformance checks for OTLP profiles requests: every check of sig-profiling `profcheck` (check.go @
 * 741ed93c; see docs reference §3.2) plus the stricter rules this exporter promises.
 *
 * profcheck checks (always on unless an option below says otherwise):
 * - top level: no empty resource_profiles / scope_profiles / profiles lists;
 * - per Profile: attribute indices in range, their key strings in range and unique within the list;
 *   sample_type/period_type string indices in range;
 * - per Sample: stack/link/attribute indices in range; every timestamp in [time, time + duration);
 *   shapes (`checkSampleShapes`): at least one of values/timestamps, equal lengths when both, exactly one
 *   value when values only, and the same shape for every sample of a profile;
 * - dictionary: every table non-empty with the zero value at index 0; every index inside entries in
 *   range; mapping memory range; line/column/start_line ≥ 0; link ids 16/8 bytes;
 * - `checkDuplicates` (profcheck `-check-dupes` covers mappings and strings): duplicates in EVERY table;
 * - `checkOrphans` (profcheck `-check-orphans`): unreferenced entries (index 0 exempt) in every table,
 *   counting references exactly as profcheck does (resource/scope attributes do not reference strings).
 *
 * Our extra rules (`checkExtras`): every profile has samples (no empty envelopes); no sample uses
 * stack_index 0; every non-zero Function has a name, system name or filename; every non-zero Location
 * has a `profile.frame.type` attribute; no two samples of a profile share an identity (stack, attribute
 * set, link); no sample value is negative (counts only: a wrapped int64); no stack entry, line function
 * or attribute list points at index 0;
 * `profile_id` is 16 non-zero bytes when set; `original_payload_format` and `original_payload` are set
 * together. (link_table[0] must be exactly `Link{}` with empty ids: profcheck already demands it.)
 */

/** One finding: `path` in proto field names, e.g. `resource_profiles[0].scope_profiles[0].profiles[1].samples[3].stack_index`. */
export interface ConformanceIssue {
  readonly path: string;
  readonly message: string;
}

/** Which check groups run; all default to true. */
export interface ConformanceOptions {
  checkDuplicates?: boolean;
  checkOrphans?: boolean;
  checkSampleShapes?: boolean;
  checkExtras?: boolean;
}

/** Attribute key every Location must carry (semantic conventions). */
const FRAME_TYPE_KEY = 'profile.frame.type';
/** How many issues `assertConforms` lists in its error message. */
const MAX_ISSUES_IN_ERROR = 20;

type Shape = 'both' | 'values_only' | 'timestamps_only';

/**
 * Where a finding is: its text, or how to write it. The hot loops pass the latter, so a conforming request
 * (every index in range) builds no path string: the receiver validates millions of indices a second.
 */
type PathOf = string | (() => string);

function pathText(path: PathOf): string {
  return typeof path === 'string' ? path : path();
}

/**
 * `parent` + `field` (+ `[index]`), written when called. A returned closure, not a named one: the
 * benchmarks run the sources through tsx, whose `keepNames` renames every named closure as it is made.
 */
function lazyPath(parent: PathOf, field: string, index?: number): () => string {
  return () => `${pathText(parent)}${field}${index === undefined ? '' : `[${index}]`}`;
}

class Checker {
  readonly issues: ConformanceIssue[] = [];
  private readonly dict: ProfilesDictionary;
  private readonly dups: boolean;
  private readonly orphans: boolean;
  private readonly shapes: boolean;
  private readonly extras: boolean;
  // Reference marks for the orphan check (index → referenced).
  private readonly refStrings: Uint8Array;
  private readonly refAttributes: Uint8Array;
  private readonly refStacks: Uint8Array;
  private readonly refLinks: Uint8Array;
  private readonly refLocations: Uint8Array;
  private readonly refMappings: Uint8Array;
  private readonly refFunctions: Uint8Array;

  constructor(
    private readonly request: ExportProfilesServiceRequest,
    options: ConformanceOptions,
  ) {
    this.dups = options.checkDuplicates ?? true;
    this.orphans = options.checkOrphans ?? true;
    this.shapes = options.checkSampleShapes ?? true;
    this.extras = options.checkExtras ?? true;
    this.dict = request.dictionary ?? emptyDictionary();
    const d = this.dict;
    this.refStrings = new Uint8Array(d.stringTable.length);
    this.refAttributes = new Uint8Array(d.attributeTable.length);
    this.refStacks = new Uint8Array(d.stackTable.length);
    this.refLinks = new Uint8Array(d.linkTable.length);
    this.refLocations = new Uint8Array(d.locationTable.length);
    this.refMappings = new Uint8Array(d.mappingTable.length);
    this.refFunctions = new Uint8Array(d.functionTable.length);
  }

  add(path: PathOf, message: string): void {
    this.issues.push({ path: pathText(path), message });
  }

  /** Whether `value` is an index of `marks`' table; marks the reference when it is. */
  private inRange(value: number, marks: Uint8Array): boolean {
    if (!Number.isInteger(value) || value < 0 || value >= marks.length) return false;
    marks[value] = 1;
    return true;
  }

  /** Range check `[0, len)`; marks the reference when in range. Returns whether it is in range. */
  index(path: PathOf, value: number, table: string, marks: Uint8Array): boolean {
    if (this.inRange(value, marks)) return true;
    this.add(path, `index ${value} out of range [0, ${marks.length}) of ${table}`);
    return false;
  }

  str(path: PathOf, value: number): boolean {
    return this.index(path, value, 'string_table', this.refStrings);
  }

  run(): ConformanceIssue[] {
    const req = this.request;
    if (!req.dictionary) this.add('dictionary', 'dictionary is missing (profcheck dereferences it)');
    if (req.resourceProfiles.length === 0) this.add('resource_profiles', 'resource profiles are empty');
    req.resourceProfiles.forEach((rp, i) => {
      const rpPath = `resource_profiles[${i}]`;
      if (rp.scopeProfiles.length === 0) this.add(`${rpPath}.scope_profiles`, 'scope profiles are empty');
      rp.scopeProfiles.forEach((sp, j) => {
        const spPath = `${rpPath}.scope_profiles[${j}]`;
        if (sp.profiles.length === 0) this.add(`${spPath}.profiles`, 'profiles are empty');
        sp.profiles.forEach((p, k) => this.profile(`${spPath}.profiles[${k}]`, p));
      });
    });
    this.dictionary();
    if (this.dups) this.duplicates();
    if (this.orphans) this.orphanEntries();
    return this.issues;
  }

  /** Attribute index list: range, key string range, unique key strings (and, as an extra, no index 0). */
  attributeIndices(path: PathOf, indices: readonly number[]): void {
    if (indices.length === 0) return;
    const keys = new Set<string>();
    const attrs = this.dict.attributeTable;
    const strings = this.dict.stringTable;
    indices.forEach((ai, n) => {
      const p = lazyPath(path, '', n);
      if (!this.index(p, ai, 'attribute_table', this.refAttributes)) return;
      if (this.extras && ai === 0) this.add(p, 'attribute index 0 is the null attribute');
      const attr = attrs[ai]!;
      if (attr.keyStrindex < 0 || attr.keyStrindex >= strings.length) {
        this.add(
          p,
          `attribute_table[${ai}].key_strindex ${attr.keyStrindex} out of range [0, ${strings.length})`,
        );
        return;
      }
      const key = strings[attr.keyStrindex]!;
      if (keys.has(key)) this.add(p, `duplicate attribute key "${key}" in the list`);
      keys.add(key);
    });
  }

  valueType(path: () => string, vt: ValueType | undefined): void {
    if (!vt) return;
    this.str(lazyPath(path, '.type_strindex'), vt.typeStrindex);
    this.str(lazyPath(path, '.unit_strindex'), vt.unitStrindex);
  }

  profile(path: string, p: Profile): void {
    this.attributeIndices(`${path}.attribute_indices`, p.attributeIndices);
    this.valueType(() => `${path}.sample_type`, p.sampleType);
    this.valueType(() => `${path}.period_type`, p.periodType);
    if (this.extras) {
      if (p.samples.length === 0) this.add(`${path}.samples`, 'profile has no samples (empty envelope)');
      if (p.profileId && p.profileId.length > 0) {
        if (p.profileId.length !== PROFILE_ID_BYTES) {
          this.add(
            `${path}.profile_id`,
            `profile_id must be ${PROFILE_ID_BYTES} bytes, got ${p.profileId.length}`,
          );
        } else if (p.profileId.every((b) => b === 0)) {
          this.add(`${path}.profile_id`, 'all-zero profile_id is invalid');
        }
      }
      const hasFormat = (p.originalPayloadFormat ?? '') !== '';
      const hasPayload = (p.originalPayload?.length ?? 0) > 0;
      if (hasFormat !== hasPayload) {
        this.add(
          `${path}.original_payload_format`,
          'original_payload_format and original_payload must be set together',
        );
      }
    }
    const end = p.timeUnixNano + p.durationNano;
    let expected: Shape | undefined;
    const identities = new Map<string, number>();
    p.samples.forEach((s, i) => {
      if (this.extras) {
        // Sample identity {stack_index, set(attribute_indices), link_index}: such samples SHOULD be merged.
        const id = `${s.stackIndex}|${[...s.attributeIndices].sort((a, b) => a - b).join(',')}|${s.linkIndex}`;
        const first = identities.get(id);
        if (first !== undefined)
          this.add(`${path}.samples[${i}]`, `same identity as samples[${first}] (should be merged)`);
        else identities.set(id, i);
      }
      const at = lazyPath(path, '.samples', i);
      const shape = this.sample(at, s, p.timeUnixNano, end);
      if (!this.shapes || shape === undefined) return;
      if (expected === undefined) expected = shape;
      else if (shape !== expected) {
        this.add(at, `sample shape ${shape} differs from the profile's first sample shape ${expected}`);
      }
    });
  }

  /** Returns the sample's shape, or undefined when the shape is invalid (already reported). */
  sample(path: () => string, s: Sample, start: bigint, end: bigint): Shape | undefined {
    this.index(lazyPath(path, '.stack_index'), s.stackIndex, 'stack_table', this.refStacks);
    if (this.extras && s.stackIndex === 0)
      this.add(`${path()}.stack_index`, 'stack_index 0 is the empty stack');
    this.attributeIndices(lazyPath(path, '.attribute_indices'), s.attributeIndices);
    this.index(lazyPath(path, '.link_index'), s.linkIndex, 'link_table', this.refLinks);
    if (this.extras) {
      // Our values count (samples, bytes, …): a negative one is what a count of 2^63 or more
      // becomes on the wire, the protobuf face of the int64 overflow JSON shows as out of range.
      s.values.forEach((v, i) => {
        if (v < 0n) this.add(`${path()}.values[${i}]`, `negative value ${v} (a count past int64 wrapped?)`);
      });
    }
    s.timestampsUnixNano.forEach((ts, i) => {
      if (ts < start || ts >= end) {
        this.add(
          `${path()}.timestamps_unix_nano[${i}]`,
          `timestamp ${ts} outside [time_unix_nano ${start}, time_unix_nano + duration_nano ${end})`,
        );
      }
    });
    if (!this.shapes) return undefined;
    const nv = s.values.length;
    const nt = s.timestampsUnixNano.length;
    if (nv > 0 && nt > 0) {
      if (nv !== nt) {
        this.add(path, `values (${nv}) and timestamps_unix_nano (${nt}) must have the same length`);
        return undefined;
      }
      return 'both';
    }
    if (nv > 0) {
      if (nv !== 1) {
        this.add(`${path()}.values`, `a sample without timestamps must have exactly 1 value, got ${nv}`);
        return undefined;
      }
      return 'values_only';
    }
    if (nt > 0) return 'timestamps_only';
    this.add(path, 'sample must have at least one values or timestamps_unix_nano entry');
    return undefined;
  }

  dictionary(): void {
    const d = this.dict;
    const base = 'dictionary';

    // mapping_table
    if (d.mappingTable.length === 0)
      this.add(`${base}.mapping_table`, 'mapping_table is empty (index 0 must be Mapping{})');
    else if (!isZeroMapping(d.mappingTable[0]!))
      this.add(`${base}.mapping_table[0]`, 'mapping_table[0] must be the zero value Mapping{}');
    d.mappingTable.forEach((m, i) => {
      if (i === 0) return;
      const p = lazyPath(base, '.mapping_table', i);
      this.str(lazyPath(p, '.filename_strindex'), m.filenameStrindex);
      this.attributeIndices(lazyPath(p, '.attribute_indices'), m.attributeIndices);
      if (!((m.memoryStart === 0n && m.memoryLimit === 0n) || m.memoryStart < m.memoryLimit)) {
        this.add(p, `memory_start ${m.memoryStart} must be < memory_limit ${m.memoryLimit} (or both 0)`);
      }
    });

    // location_table
    if (d.locationTable.length === 0)
      this.add(`${base}.location_table`, 'location_table is empty (index 0 must be Location{})');
    else if (!isZeroLocation(d.locationTable[0]!))
      this.add(`${base}.location_table[0]`, 'location_table[0] must be the zero value Location{}');
    d.locationTable.forEach((l, i) => {
      const p = lazyPath(base, '.location_table', i);
      this.index(lazyPath(p, '.mapping_index'), l.mappingIndex, 'mapping_table', this.refMappings);
      this.attributeIndices(lazyPath(p, '.attribute_indices'), l.attributeIndices);
      l.lines.forEach((line, n) => {
        const lp = lazyPath(p, '.lines', n);
        this.index(lazyPath(lp, '.function_index'), line.functionIndex, 'function_table', this.refFunctions);
        if (this.extras && line.functionIndex === 0)
          this.add(`${lp()}.function_index`, 'function_index 0 is the null function');
        if (line.line < 0n) this.add(`${lp()}.line`, `line ${line.line} must be >= 0`);
        if (line.column < 0n) this.add(`${lp()}.column`, `column ${line.column} must be >= 0`);
      });
      if (this.extras && i !== 0 && !this.hasFrameType(l.attributeIndices)) {
        this.add(`${p()}.attribute_indices`, `location has no "${FRAME_TYPE_KEY}" attribute`);
      }
    });

    // function_table
    if (d.functionTable.length === 0)
      this.add(`${base}.function_table`, 'function_table is empty (index 0 must be Function{})');
    else if (!isZeroFunction(d.functionTable[0]!))
      this.add(`${base}.function_table[0]`, 'function_table[0] must be the zero value Function{}');
    d.functionTable.forEach((f, i) => {
      const p = lazyPath(base, '.function_table', i);
      this.str(lazyPath(p, '.name_strindex'), f.nameStrindex);
      this.str(lazyPath(p, '.system_name_strindex'), f.systemNameStrindex);
      this.str(lazyPath(p, '.filename_strindex'), f.filenameStrindex);
      if (f.startLine < 0n) this.add(`${p()}.start_line`, `start_line ${f.startLine} must be >= 0`);
      if (
        this.extras &&
        i !== 0 &&
        f.nameStrindex === 0 &&
        f.systemNameStrindex === 0 &&
        f.filenameStrindex === 0
      ) {
        this.add(
          p,
          'function must have at least one of name_strindex, system_name_strindex, filename_strindex',
        );
      }
    });

    // link_table
    if (d.linkTable.length === 0)
      this.add(`${base}.link_table`, 'link_table is empty (index 0 must be Link{})');
    else {
      const l0 = d.linkTable[0]!;
      if (l0.traceId.length !== 0 || l0.spanId.length !== 0) {
        this.add(
          `${base}.link_table[0]`,
          'link_table[0] must be exactly Link{} (empty trace_id and span_id)',
        );
      }
    }
    d.linkTable.forEach((l, i) => {
      if (i === 0) return;
      const p = `${base}.link_table[${i}]`;
      if (l.traceId.length !== TRACE_ID_BYTES)
        this.add(`${p}.trace_id`, `trace_id must be ${TRACE_ID_BYTES} bytes, got ${l.traceId.length}`);
      if (l.spanId.length !== SPAN_ID_BYTES)
        this.add(`${p}.span_id`, `span_id must be ${SPAN_ID_BYTES} bytes, got ${l.spanId.length}`);
    });

    // string_table
    if (d.stringTable.length === 0)
      this.add(`${base}.string_table`, 'string_table is empty (index 0 must be "")');
    else if (d.stringTable[0] !== '') this.add(`${base}.string_table[0]`, 'string_table[0] must be ""');

    // attribute_table
    if (d.attributeTable.length === 0)
      this.add(`${base}.attribute_table`, 'attribute_table is empty (index 0 must be KeyValueAndUnit{})');
    else {
      const a0 = d.attributeTable[0]!;
      if (a0.keyStrindex !== 0 || a0.unitStrindex !== 0 || a0.value !== undefined) {
        this.add(
          `${base}.attribute_table[0]`,
          'attribute_table[0] must be the zero value KeyValueAndUnit{} (key 0, unit 0, no value)',
        );
      }
    }
    d.attributeTable.forEach((a, i) => {
      const p = lazyPath(base, '.attribute_table', i);
      this.str(lazyPath(p, '.key_strindex'), a.keyStrindex);
      this.str(lazyPath(p, '.unit_strindex'), a.unitStrindex);
    });

    // stack_table
    if (d.stackTable.length === 0)
      this.add(`${base}.stack_table`, 'stack_table is empty (index 0 must be Stack{})');
    else if (d.stackTable[0]!.locationIndices.length !== 0)
      this.add(`${base}.stack_table[0]`, 'stack_table[0] must be the zero value Stack{}');
    d.stackTable.forEach((s, i) => {
      const locations = s.locationIndices;
      for (let n = 0; n < locations.length; n++) {
        const li = locations[n]!;
        if (this.inRange(li, this.refLocations) && !(this.extras && li === 0)) continue;
        const p = `${base}.stack_table[${i}].location_indices[${n}]`;
        this.index(p, li, 'location_table', this.refLocations);
        if (this.extras && li === 0) this.add(p, 'location index 0 is the null location');
      }
    });
  }

  hasFrameType(indices: readonly number[]): boolean {
    const { attributeTable, stringTable } = this.dict;
    return indices.some((ai) => {
      const a = attributeTable[ai];
      return a !== undefined && stringTable[a.keyStrindex] === FRAME_TYPE_KEY;
    });
  }

  duplicates(): void {
    const d = this.dict;
    const base = 'dictionary';
    const sortedJoin = (xs: readonly number[]): string => [...xs].sort((a, b) => a - b).join(',');
    this.dupTable(
      `${base}.mapping_table`,
      d.mappingTable,
      (m) =>
        `${m.filenameStrindex}|${sortedJoin(m.attributeIndices)}|${m.memoryStart}|${m.memoryLimit}|${m.fileOffset}`,
    );
    this.dupTable(
      `${base}.location_table`,
      d.locationTable,
      (l) =>
        `${l.mappingIndex}|${l.address}|${l.lines.map((x) => `${x.functionIndex}:${x.line}:${x.column}`).join(';')}|${sortedJoin(l.attributeIndices)}`,
    );
    this.dupTable(
      `${base}.function_table`,
      d.functionTable,
      (f) => `${f.nameStrindex}|${f.systemNameStrindex}|${f.filenameStrindex}|${f.startLine}`,
    );
    this.dupTable(`${base}.link_table`, d.linkTable, (l) => `${hex(l.traceId)}|${hex(l.spanId)}`);
    this.dupTable(`${base}.string_table`, d.stringTable, (s) => s);
    this.dupTable(`${base}.attribute_table`, d.attributeTable, (a) => attributeKey(a, d.stringTable));
    this.dupTable(`${base}.stack_table`, d.stackTable, (s) => s.locationIndices.join(','));
  }

  dupTable<T>(path: string, table: readonly T[], key: (x: T) => string): void {
    const seen = new Map<string, number>();
    table.forEach((entry, i) => {
      const k = key(entry);
      const first = seen.get(k);
      if (first !== undefined)
        this.add(`${path}[${i}]`, `duplicate of ${path.slice(path.lastIndexOf('.') + 1)}[${first}]`);
      else seen.set(k, i);
    });
  }

  orphanEntries(): void {
    const base = 'dictionary';
    const report = (name: string, marks: Uint8Array): void => {
      for (let i = 1; i < marks.length; i++) {
        if (marks[i] === 0) this.add(`${base}.${name}[${i}]`, `orphaned ${name} entry (not referenced)`);
      }
    };
    report('mapping_table', this.refMappings);
    report('location_table', this.refLocations);
    report('function_table', this.refFunctions);
    report('link_table', this.refLinks);
    report('string_table', this.refStrings);
    report('attribute_table', this.refAttributes);
    report('stack_table', this.refStacks);
  }
}

function isZeroMapping(m: ProfilesDictionary['mappingTable'][number]): boolean {
  return (
    m.memoryStart === 0n &&
    m.memoryLimit === 0n &&
    m.fileOffset === 0n &&
    m.filenameStrindex === 0 &&
    m.attributeIndices.length === 0
  );
}

function isZeroLocation(l: ProfilesDictionary['locationTable'][number]): boolean {
  return l.mappingIndex === 0 && l.address === 0n && l.lines.length === 0 && l.attributeIndices.length === 0;
}

function isZeroFunction(f: ProfilesDictionary['functionTable'][number]): boolean {
  return f.nameStrindex === 0 && f.systemNameStrindex === 0 && f.filenameStrindex === 0 && f.startLine === 0n;
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

/** Identity of an attribute entry: key, unit and the value compared by type and content, recursively. */
function attributeKey(a: KeyValueAndUnit, strings: readonly string[]): string {
  return `${a.keyStrindex}|${a.unitStrindex}|${anyValueKey(a.value, strings)}`;
}

/**
 * Checks a request against every profcheck rule plus our stricter ones (see module doc). Returns all
 * issues found (empty when the request conforms). Never throws on malformed indices.
 */
export function validateRequest(
  request: ExportProfilesServiceRequest,
  options?: ConformanceOptions,
): ConformanceIssue[] {
  return new Checker(request, options ?? {}).run();
}

/** Throws an Error listing up to 20 issues when `validateRequest` finds any. */
export function assertConforms(request: ExportProfilesServiceRequest, options?: ConformanceOptions): void {
  const issues = validateRequest(request, options);
  if (issues.length === 0) return;
  const shown = issues.slice(0, MAX_ISSUES_IN_ERROR).map((i) => `  ${i.path}: ${i.message}`);
  const more =
    issues.length > MAX_ISSUES_IN_ERROR ? [`  … and ${issues.length - MAX_ISSUES_IN_ERROR} more`] : [];
  throw new Error(
    `OTLP profiles request does not conform (${issues.length} issue${issues.length === 1 ? '' : 's'}):\n${[...shown, ...more].join('\n')}`,
  );
}
