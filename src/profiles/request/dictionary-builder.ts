import type {
  AnyValue,
  KeyValueAndUnit,
  Line,
  Link,
  Location,
  Mapping,
  ProfileFunction,
  ProfilesDictionary,
  Stack,
} from '../model/otlp-model.js';
import { anyValueKey } from '../model/any-value-key.js';

/** FNV-style multiplier for stackHash. */
const STACK_HASH_PRIME = 0x01000193;

/** A 32-bit hash of a location index sequence (exported for the tests that make it collide). */
export function stackHash(locationIndices: readonly number[]): number {
  let hash = locationIndices.length;
  for (const index of locationIndices) hash = Math.imul(hash ^ index, STACK_HASH_PRIME);
  return hash;
}

function sameIndices(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Builds one ProfilesDictionary with every table deduplicated by value: strings, functions,
 * mappings, locations, stacks, attributes and links. Each table is an insertion-ordered set whose
 * index 0 is the zero value the proto requires (`""`, `Mapping{}`, …, `Link{}` with empty ids).
 */
export class DictionaryBuilder {
  private readonly _strings = new Map<string, number>([['', 0]]);
  private readonly _stringTable: string[] = [''];
  private readonly _functions = new Map<string, number>();
  private readonly _functionTable: ProfileFunction[] = [
    { nameStrindex: 0, systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n },
  ];
  private readonly _mappings = new Map<string, number>();
  private readonly _mappingTable: Mapping[] = [
    { memoryStart: 0n, memoryLimit: 0n, fileOffset: 0n, filenameStrindex: 0, attributeIndices: [] },
  ];
  private readonly _locations = new Map<string, number>();
  private readonly _locationTable: Location[] = [
    { mappingIndex: 0, address: 0n, lines: [], attributeIndices: [] },
  ];
  /** Stack indices by stackHash of their location indices (equal hashes are compared in full). */
  private readonly _stacks = new Map<number, number[]>();
  private readonly _stackTable: Stack[] = [{ locationIndices: [] }];
  private readonly _attributes = new Map<string, number>();
  private readonly _attributeTable: KeyValueAndUnit[] = [{ keyStrindex: 0, unitStrindex: 0 }];
  private readonly _links = new Map<string, number>();
  private readonly _linkTable: Link[] = [{ traceId: new Uint8Array(0), spanId: new Uint8Array(0) }];

  string(value: string): number {
    let index = this._strings.get(value);
    if (index === undefined) {
      index = this._stringTable.length;
      this._stringTable.push(value);
      this._strings.set(value, index);
    }
    return index;
  }

  function(name: string, systemName = '', filename = '', startLine = 0n): number {
    const fn: ProfileFunction = {
      nameStrindex: this.string(name),
      systemNameStrindex: this.string(systemName),
      filenameStrindex: this.string(filename),
      startLine,
    };
    return this.functionEntry(fn);
  }

  /** Adds a function whose string indices already belong to this dictionary. */
  functionEntry(fn: ProfileFunction): number {
    const key = `${fn.nameStrindex},${fn.systemNameStrindex},${fn.filenameStrindex},${fn.startLine}`;
    let index = this._functions.get(key);
    if (index === undefined) {
      index = this._functionTable.length;
      this._functionTable.push(fn);
      this._functions.set(key, index);
    }
    return index;
  }

  /** Attribute with a value; the unit is a string (empty = none). */
  attribute(key: string, value: AnyValue, unit = ''): number {
    return this.attributeEntry({ keyStrindex: this.string(key), value, unitStrindex: this.string(unit) });
  }

  attributeEntry(entry: KeyValueAndUnit): number {
    const key = `${entry.keyStrindex},${entry.unitStrindex},${anyValueKey(entry.value)}`;
    let index = this._attributes.get(key);
    if (index === undefined) {
      index = this._attributeTable.length;
      this._attributeTable.push(entry);
      this._attributes.set(key, index);
    }
    return index;
  }

  mapping(
    filename: string,
    attributeIndices: number[],
    memoryStart = 0n,
    memoryLimit = 0n,
    fileOffset = 0n,
  ): number {
    return this.mappingEntry({
      memoryStart,
      memoryLimit,
      fileOffset,
      filenameStrindex: this.string(filename),
      attributeIndices,
    });
  }

  mappingEntry(mapping: Mapping): number {
    const attrs = [...mapping.attributeIndices].sort((a, b) => a - b).join(' ');
    const key = `${mapping.filenameStrindex},${mapping.memoryStart},${mapping.memoryLimit},${mapping.fileOffset},${attrs}`;
    let index = this._mappings.get(key);
    if (index === undefined) {
      index = this._mappingTable.length;
      this._mappingTable.push(mapping);
      this._mappings.set(key, index);
    }
    return index;
  }

  location(mappingIndex: number, address: bigint, lines: Line[], attributeIndices: number[]): number {
    return this.locationEntry({ mappingIndex, address, lines, attributeIndices });
  }

  locationEntry(location: Location): number {
    let key = `${location.mappingIndex},${location.address},`;
    for (const l of location.lines) key += `${l.functionIndex}:${l.line}:${l.column};`;
    key += [...location.attributeIndices].sort((a, b) => a - b).join(' ');
    let index = this._locations.get(key);
    if (index === undefined) {
      index = this._locationTable.length;
      this._locationTable.push(location);
      this._locations.set(key, index);
    }
    return index;
  }

  /**
   * Appends a location the caller knows is not in the table yet (the generator dedups frames by
   * identity), skipping the value key. Mixing it with locationEntry() for equal values would
   * create duplicates, which the conformance tests would catch.
   */
  appendUniqueLocation(location: Location): number {
    this._locationTable.push(location);
    return this._locationTable.length - 1;
  }

  /**
   * Stacks are equal when their location index sequences are equal (leaf first). Keyed by a hash of
   * the indices, not their joined text: a flush adds a thousand stacks of dozens of frames.
   */
  stack(locationIndices: number[]): number {
    const hash = stackHash(locationIndices);
    const candidates = this._stacks.get(hash);
    if (candidates !== undefined) {
      for (const index of candidates) {
        if (sameIndices(this._stackTable[index]!.locationIndices, locationIndices)) return index;
      }
    }
    const index = this._stackTable.length;
    this._stackTable.push({ locationIndices });
    if (candidates === undefined) this._stacks.set(hash, [index]);
    else candidates.push(index);
    return index;
  }

  /** trace id 16 bytes, span id 8 bytes. */
  link(traceId: Uint8Array, spanId: Uint8Array): number {
    const key = `${Buffer.from(traceId).toString('hex')}-${Buffer.from(spanId).toString('hex')}`;
    let index = this._links.get(key);
    if (index === undefined) {
      index = this._linkTable.length;
      this._linkTable.push({ traceId, spanId });
      this._links.set(key, index);
    }
    return index;
  }

  get stringCount(): number {
    return this._stringTable.length;
  }

  build(): ProfilesDictionary {
    return {
      mappingTable: this._mappingTable,
      locationTable: this._locationTable,
      functionTable: this._functionTable,
      linkTable: this._linkTable,
      stringTable: this._stringTable,
      attributeTable: this._attributeTable,
      stackTable: this._stackTable,
    };
  }
}
