import type {
  AnyValue,
  ExportProfilesServiceRequest,
  InstrumentationScope,
  KeyValue,
  KeyValueAndUnit,
  Profile,
  ProfilesDictionary,
  Resource,
  ResourceProfiles,
  Sample,
  ScopeProfiles,
  ValueType,
} from '../../src/profiles/model/otlp-model.js';
import type { SeededRandom } from './seeded-random.js';

/**
 * Random but valid requests in the model's canonical form (optional fields absent when default, so
 * encode → decode gives the same object back), reaching every field and the awkward values: 64-bit
 * integers at both ends and around 2^53, negative int32 indices, empty and non-ASCII strings (a leading
 * BOM, astral characters, strings past the decoder's interning size), bytes of any length, NaN and -0,
 * nested AnyValue arrays and kvlists, present-but-empty messages.
 */

const INT64_EDGES = [
  0n,
  1n,
  -1n,
  127n,
  128n,
  (1n << 53n) - 1n,
  1n << 53n,
  (1n << 53n) + 1n,
  -(1n << 53n) - 1n,
  (1n << 63n) - 1n,
  -(1n << 63n),
];
const UINT64_EDGES = [0n, 1n, 0xffff_ffffn, 1n << 32n, (1n << 53n) + 1n, (1n << 63n) + 5n, (1n << 64n) - 1n];
const STRINGS = [
  '',
  'a',
  'service.name',
  'k8s.pod.name',
  'fünction_✓_𝛑',
  '\uFEFFbom-first',
  'é',
  'x'.repeat(79),
  'y'.repeat(80),
  'z'.repeat(81),
  `${'long/path/'.repeat(30)}file.go`,
  `${'ascii'.repeat(20)}ü`,
];
const DOUBLES = [0, -0, 1.5, -2.25e300, Number.NaN, Number.POSITIVE_INFINITY, Number.MIN_VALUE];

export class RandomRequests {
  constructor(private readonly rnd: SeededRandom) {}

  private chance(percent: number): boolean {
    return this.rnd.int(100) < percent;
  }

  private pick<T>(items: readonly T[]): T {
    return items[this.rnd.int(items.length)]!;
  }

  private times<T>(max: number, make: (i: number) => T): T[] {
    return Array.from({ length: this.rnd.int(max + 1) }, (_, i) => make(i));
  }

  int32(): number {
    if (this.chance(60)) return this.rnd.int(200);
    if (this.chance(50)) return this.pick([-1, -2147483648, 2147483647, 300, 16384]);
    return this.rnd.int(0x7fff_ffff) - this.rnd.int(0x7fff_ffff);
  }

  uint32(): number {
    return this.chance(50) ? this.rnd.int(1000) : this.pick([1, 0xffff_ffff, 0x8000_0000, 0x7fff_ffff]);
  }

  int64(): bigint {
    if (this.chance(50)) return BigInt(this.rnd.int(100_000));
    if (this.chance(50)) return this.pick(INT64_EDGES);
    return BigInt.asIntN(64, this.bits64());
  }

  uint64(): bigint {
    if (this.chance(40)) return BigInt(this.rnd.int(100_000));
    if (this.chance(50)) return this.pick(UINT64_EDGES);
    return this.bits64();
  }

  private bits64(): bigint {
    return (
      (BigInt(this.rnd.int(0x1_0000)) << 48n) |
      (BigInt(this.rnd.int(0x100_0000)) << 24n) |
      BigInt(this.rnd.int(0x100_0000))
    );
  }

  string(): string {
    if (this.chance(70)) return this.pick(STRINGS);
    return Array.from({ length: 1 + this.rnd.int(30) }, () =>
      String.fromCharCode(0x20 + this.rnd.int(0x5f)),
    ).join('');
  }

  nonEmptyString(): string {
    const s = this.string();
    return s === '' ? 'n' : s;
  }

  bytes(length = this.rnd.int(20)): Uint8Array {
    return Uint8Array.from({ length }, () => this.rnd.int(256));
  }

  anyValue(depth = 0): AnyValue {
    switch (this.rnd.int(depth < 3 ? 8 : 6)) {
      case 0:
        return { stringValue: this.string() };
      case 1:
        return { boolValue: this.chance(50) };
      case 2:
        return { intValue: this.int64() };
      case 3:
        return { doubleValue: this.pick(DOUBLES) };
      case 4:
        return { bytesValue: this.bytes() };
      case 5:
        return { stringValueStrindex: this.int32() };
      case 6:
        return { arrayValue: { values: this.times(3, () => this.anyValue(depth + 1)) } };
      default:
        return { kvlistValue: { values: this.times(3, () => this.keyValue(depth + 1)) } };
    }
  }

  keyValue(depth = 0): KeyValue {
    const kv: KeyValue = { key: this.string() };
    if (this.chance(85)) kv.value = this.anyValue(depth);
    if (this.chance(10)) kv.keyStrindex = this.nonZero(() => this.int32());
    return kv;
  }

  private nonZero<T extends number | bigint>(make: () => T): T {
    for (;;) {
      const v = make();
      if (v !== 0 && v !== 0n) return v;
    }
  }

  resource(): Resource {
    const r: Resource = { attributes: this.times(5, () => this.keyValue()) };
    if (this.chance(20)) r.droppedAttributesCount = this.nonZero(() => this.uint32());
    return r;
  }

  scope(): InstrumentationScope {
    const s: InstrumentationScope = { name: this.string(), version: this.string() };
    const attributes = this.times(2, () => this.keyValue());
    if (attributes.length > 0) s.attributes = attributes;
    if (this.chance(20)) s.droppedAttributesCount = this.nonZero(() => this.uint32());
    return s;
  }

  valueType(): ValueType {
    return { typeStrindex: this.int32(), unitStrindex: this.int32() };
  }

  sample(): Sample {
    return {
      stackIndex: this.int32(),
      attributeIndices: this.times(3, () => this.int32()),
      linkIndex: this.chance(70) ? 0 : this.int32(),
      values: this.times(3, () => this.int64()),
      timestampsUnixNano: this.times(3, () => this.uint64()),
    };
  }

  profile(): Profile {
    const p: Profile = {
      samples: this.times(6, () => this.sample()),
      timeUnixNano: this.uint64(),
      durationNano: this.uint64(),
      period: this.int64(),
      attributeIndices: this.times(3, () => this.int32()),
    };
    if (this.chance(70)) p.sampleType = this.valueType();
    if (this.chance(50)) p.periodType = this.valueType();
    if (this.chance(30)) p.profileId = this.bytes(this.pick([16, 1, 40]));
    if (this.chance(15)) p.droppedAttributesCount = this.nonZero(() => this.uint32());
    if (this.chance(15)) p.originalPayloadFormat = this.nonEmptyString();
    if (this.chance(15)) p.originalPayload = this.bytes(1 + this.rnd.int(300));
    return p;
  }

  scopeProfiles(): ScopeProfiles {
    const sp: ScopeProfiles = { profiles: this.times(3, () => this.profile()) };
    if (this.chance(60)) sp.scope = this.scope();
    if (this.chance(20)) sp.schemaUrl = this.nonEmptyString();
    return sp;
  }

  resourceProfiles(): ResourceProfiles {
    const rp: ResourceProfiles = { scopeProfiles: this.times(3, () => this.scopeProfiles()) };
    if (this.chance(70)) rp.resource = this.resource();
    if (this.chance(20)) rp.schemaUrl = this.nonEmptyString();
    return rp;
  }

  attribute(): KeyValueAndUnit {
    const a: KeyValueAndUnit = { keyStrindex: this.int32(), unitStrindex: this.int32() };
    if (this.chance(80)) a.value = this.anyValue();
    return a;
  }

  dictionary(): ProfilesDictionary {
    return {
      mappingTable: this.times(3, () => ({
        memoryStart: this.uint64(),
        memoryLimit: this.uint64(),
        fileOffset: this.uint64(),
        filenameStrindex: this.int32(),
        attributeIndices: this.times(2, () => this.int32()),
      })),
      locationTable: this.times(5, () => ({
        mappingIndex: this.int32(),
        address: this.uint64(),
        lines: this.times(3, () => ({
          functionIndex: this.int32(),
          line: this.int64(),
          column: this.int64(),
        })),
        attributeIndices: this.times(2, () => this.int32()),
      })),
      functionTable: this.times(4, () => ({
        nameStrindex: this.int32(),
        systemNameStrindex: this.int32(),
        filenameStrindex: this.int32(),
        startLine: this.int64(),
      })),
      linkTable: this.times(3, () => ({
        traceId: this.bytes(this.pick([0, 16])),
        spanId: this.bytes(this.pick([0, 8])),
      })),
      stringTable: this.times(8, () => this.string()),
      attributeTable: this.times(4, () => this.attribute()),
      stackTable: this.times(4, () => ({ locationIndices: this.times(8, () => this.int32()) })),
    };
  }

  request(): ExportProfilesServiceRequest {
    return { resourceProfiles: this.times(3, () => this.resourceProfiles()), dictionary: this.dictionary() };
  }
}
