import type { DictionaryBuilder } from './dictionary-builder.js';
import type {
  AnyValue,
  KeyValueAndUnit,
  Profile,
  ProfilesDictionary,
  ValueType,
} from '../model/otlp-model.js';

/**
 * Copies entries of one dictionary into a fresh DictionaryBuilder on demand, so a piece of a
 * split request carries exactly the entries it references (never a copy of the whole table).
 * Each table has a memo from old index to new index.
 */
export class DictionaryRemapper {
  private readonly _strings: Int32Array;
  private readonly _attributes: Int32Array;
  private readonly _functions: Int32Array;
  private readonly _mappings: Int32Array;
  private readonly _locations: Int32Array;
  private readonly _stacks: Int32Array;
  private readonly _links: Int32Array;

  constructor(
    private readonly _from: ProfilesDictionary,
    private readonly _to: DictionaryBuilder,
  ) {
    // -1 = not copied yet; index 0 always maps to the builder's own zero value.
    const memo = (n: number): Int32Array => {
      const a = new Int32Array(Math.max(n, 1)).fill(-1);
      a[0] = 0;
      return a;
    };
    this._strings = memo(_from.stringTable.length);
    this._attributes = memo(_from.attributeTable.length);
    this._functions = memo(_from.functionTable.length);
    this._mappings = memo(_from.mappingTable.length);
    this._locations = memo(_from.locationTable.length);
    this._stacks = memo(_from.stackTable.length);
    this._links = memo(_from.linkTable.length);
  }

  string(index: number): number {
    const known = this._strings[index];
    if (known !== undefined && known >= 0) return known;
    const mapped = this._to.string(this._from.stringTable[index] ?? '');
    this._strings[index] = mapped;
    return mapped;
  }

  valueType(t: ValueType): ValueType {
    return { typeStrindex: this.string(t.typeStrindex), unitStrindex: this.string(t.unitStrindex) };
  }

  /** A profile's sample and period types with their strings copied (absent ones stay absent). */
  valueTypes(p: Profile): Pick<Profile, 'sampleType' | 'periodType'> {
    return {
      ...(p.sampleType ? { sampleType: this.valueType(p.sampleType) } : {}),
      ...(p.periodType ? { periodType: this.valueType(p.periodType) } : {}),
    };
  }

  attribute(index: number): number {
    const known = this._attributes[index];
    if (known !== undefined && known >= 0) return known;
    const a: KeyValueAndUnit = this._from.attributeTable[index] ?? { keyStrindex: 0, unitStrindex: 0 };
    const mapped = this._to.attributeEntry({
      keyStrindex: this.string(a.keyStrindex),
      unitStrindex: this.string(a.unitStrindex),
      ...(a.value ? { value: this._value(a.value) } : {}),
    });
    this._attributes[index] = mapped;
    return mapped;
  }

  attributes(indices: readonly number[]): number[] {
    return indices.map((i) => this.attribute(i));
  }

  function(index: number): number {
    const known = this._functions[index];
    if (known !== undefined && known >= 0) return known;
    const f = this._from.functionTable[index];
    const mapped = f
      ? this._to.functionEntry({
          nameStrindex: this.string(f.nameStrindex),
          systemNameStrindex: this.string(f.systemNameStrindex),
          filenameStrindex: this.string(f.filenameStrindex),
          startLine: f.startLine,
        })
      : 0;
    this._functions[index] = mapped;
    return mapped;
  }

  mapping(index: number): number {
    const known = this._mappings[index];
    if (known !== undefined && known >= 0) return known;
    const m = this._from.mappingTable[index];
    const mapped = m
      ? this._to.mappingEntry({
          memoryStart: m.memoryStart,
          memoryLimit: m.memoryLimit,
          fileOffset: m.fileOffset,
          filenameStrindex: this.string(m.filenameStrindex),
          attributeIndices: this.attributes(m.attributeIndices),
        })
      : 0;
    this._mappings[index] = mapped;
    return mapped;
  }

  location(index: number): number {
    const known = this._locations[index];
    if (known !== undefined && known >= 0) return known;
    const l = this._from.locationTable[index];
    const mapped = l
      ? this._to.locationEntry({
          mappingIndex: this.mapping(l.mappingIndex),
          address: l.address,
          lines: l.lines.map((line) => ({
            functionIndex: this.function(line.functionIndex),
            line: line.line,
            column: line.column,
          })),
          attributeIndices: this.attributes(l.attributeIndices),
        })
      : 0;
    this._locations[index] = mapped;
    return mapped;
  }

  stack(index: number): number {
    const known = this._stacks[index];
    if (known !== undefined && known >= 0) return known;
    const s = this._from.stackTable[index];
    const mapped = s ? this._to.stack(s.locationIndices.map((i) => this.location(i))) : 0;
    this._stacks[index] = mapped;
    return mapped;
  }

  link(index: number): number {
    const known = this._links[index];
    if (known !== undefined && known >= 0) return known;
    const l = this._from.linkTable[index];
    const mapped = l && l.traceId.length > 0 ? this._to.link(l.traceId, l.spanId) : 0;
    this._links[index] = mapped;
    return mapped;
  }

  /** Values that reference the old string table are resolved to plain strings. */
  private _value(value: AnyValue): AnyValue {
    if ('stringValueStrindex' in value)
      return { stringValue: this._from.stringTable[value.stringValueStrindex] ?? '' };
    return value;
  }
}
