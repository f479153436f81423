/**
 * Turns IG's stack strings into frames. IG renders stacks as `"sym1; sym2; "` (leaf first, a
 * trailing separator), before v0.53 with `[N]` prefixes; unresolved user frames are `0x…`, the OTel
 * symbolizer renders unnamed native frames as `<module>+0x<offset>`. Sibling fields of a user stack
 * (`addresses`, `buildid`) add addresses and GNU build ids when they line up with the symbols.
 */

export type FrameType =
  | 'kernel'
  | 'native'
  | 'cpython'
  | 'jvm'
  | 'v8js'
  | 'ruby'
  | 'php'
  | 'perl'
  | 'dotnet'
  | 'beam'
  | 'luajit'
  | 'unknown';

/** One frame; instances are interned (FrameTable), so identity comparison is equality. */
export interface Frame {
  readonly functionName?: string;
  /** Location.address: file offset when a build id is known, else the process address. */
  readonly address?: bigint;
  /** Mapping file name (`libc.so.6`); undefined = no mapping. */
  readonly module?: string;
  /** GNU build id (hex) of the mapping. */
  readonly buildId?: string;
  readonly frameType: FrameType;
}

/** Function name of the frame that stands in for a row that carried no frame at all. */
export const NO_STACK_PLACEHOLDER = '[no stack collected]';

const SEPARATOR = '; ';
const LEGACY_INDEX_PREFIX = /^\[\d+\]/;
const HEX_ADDRESS = /^0x[0-9a-fA-F]+$/;
const MODULE_OFFSET = /^([^\s;]+)\+0x([0-9a-fA-F]+)$/;
const BUILD_ID_ENTRY = /^([0-9a-fA-F]{8,}) \+([0-9a-fA-F]+)$/;

/** Native modules that reveal which interpreter produced the named frames above them. */
const INTERPRETER_MODULES: readonly [RegExp, FrameType][] = [
  [/(^|\/)(lib)?python\d/i, 'cpython'],
  [/(^|\/)libjvm\.so|(^|\/)java$/i, 'jvm'],
  [/(^|\/)(node|libnode\.so)/i, 'v8js'],
  [/(^|\/)(lib)?ruby/i, 'ruby'],
  [/(^|\/)(php|libphp)/i, 'php'],
  [/(^|\/)(lib)?perl/i, 'perl'],
  [/(^|\/)(libcoreclr\.so|dotnet)/i, 'dotnet'],
  [/(^|\/)beam\.smp/i, 'beam'],
  [/(^|\/)(luajit|libluajit)/i, 'luajit'],
];

/** Splits a `"; "`-joined stack string, dropping the trailing empty item and legacy `[N]` prefixes. */
export function splitStackString(value: string): string[] {
  if (value === '') return [];
  const parts = value.split(SEPARATOR);
  const last = parts.length - 1;
  if (parts[last] === '') parts.pop();
  else if (parts[last]?.endsWith(';')) parts[last] = parts[last].slice(0, -1);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] ?? '';
    if (p.charCodeAt(0) === 91 /* [ */ && LEGACY_INDEX_PREFIX.test(p))
      parts[i] = p.replace(LEGACY_INDEX_PREFIX, '');
  }
  return parts;
}

/** Whether a stack field holds kernel frames (`kern_stack`, `kstack`, `kernel_stack`). */
export function isKernelStackField(fieldName: string): boolean {
  const leaf = fieldName.slice(fieldName.lastIndexOf('.') + 1);
  return /^(kern|kernel)_?stack/.test(leaf) || leaf === 'kstack';
}

/** Interns frames: equal frames in, one object out. */
export interface FrameInterner {
  intern(frame: Frame): Frame;
}

/** A frame held by a FrameTable, with the last generation (flush) that used it. */
export interface InternedFrame {
  readonly frame: Frame;
  used: number;
}

/**
 * Interned frames of one name (function name, else module, else build id): usually one, more when
 * frames share a name but differ in address, module, build id or type. Keyed by address.
 */
type NameBucket = Map<bigint | undefined, InternedFrame[]>;

function sameFrame(a: Frame, b: Frame): boolean {
  return (
    a.functionName === b.functionName &&
    a.address === b.address &&
    a.module === b.module &&
    a.buildId === b.buildId &&
    a.frameType === b.frameType
  );
}

/**
 * Interns frames so equal frames are one object (cheap identity maps in the generator). Frames live
 * for several flushes (generations): `touch()` marks the frames of a stack kept from an earlier
 * flush as used, and `advance()` forgets frames unused for `generations` flushes. As long as a
 * frame is in the table, interning an equal frame returns that very object, so a stack parsed afresh
 * shares its frame objects with cached stacks.
 */
export class FrameTable implements FrameInterner {
  /**
   * By name, then address: a lookup hashes the name and the address and compares a few fields,
   * where one string key per frame (type, name, address, module, build id joined) cost a
   * concatenation, a BigInt to decimal conversion and a flattened ~100-character string per frame
   * parsed: about half of a stack parse's time.
   */
  private readonly _byName = new Map<string, NameBucket>();
  private _size = 0;
  private _generation = 0;

  /** @param _generations flushes (the current one included) an unused frame survives; ≥ 1. */
  constructor(private readonly _generations = 1) {}

  intern(frame: Frame): Frame {
    return this._cell(frame).frame;
  }

  /** An interner that also appends each frame's cell to `cells`, for touch() in a later flush. */
  recording(cells: InternedFrame[]): FrameInterner {
    return {
      intern: (frame: Frame): Frame => {
        const cell = this._cell(frame);
        cells.push(cell);
        return cell.frame;
      },
    };
  }

  /** Marks interned frames (of a stack kept from an earlier flush) as used in this generation. */
  touch(cells: readonly InternedFrame[]): void {
    const generation = this._generation;
    for (const cell of cells) cell.used = generation;
  }

  get size(): number {
    return this._size;
  }

  /**
   * Starts the next generation (at each flush) and forgets frames the last ones did not use, or,
   * given `keepFrom`, frames last used before that generation when it is older: the owner of a
   * cache of stacks passes the oldest generation it keeps, so every frame of a kept stack stays.
   */
  advance(keepFrom?: number): void {
    this._generation++;
    const oldest = Math.min(this._generation - this._generations + 1, keepFrom ?? Infinity);
    // forEach, not for-of: no [key, value] pair is allocated per entry.
    this._byName.forEach((bucket, name) => {
      bucket.forEach((cells, address) => {
        if (cells.every((cell) => cell.used >= oldest)) return;
        const kept = cells.filter((cell) => cell.used >= oldest);
        this._size -= cells.length - kept.length;
        if (kept.length === 0) bucket.delete(address);
        else bucket.set(address, kept);
      });
      if (bucket.size === 0) this._byName.delete(name);
    });
  }

  clear(): void {
    this._byName.clear();
    this._size = 0;
  }

  private _cell(frame: Frame): InternedFrame {
    const name = frame.functionName ?? frame.module ?? frame.buildId ?? '';
    let bucket = this._byName.get(name);
    if (bucket === undefined) {
      bucket = new Map();
      this._byName.set(name, bucket);
    }
    let cells = bucket.get(frame.address);
    if (cells === undefined) {
      cells = [];
      bucket.set(frame.address, cells);
    }
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] as InternedFrame;
      if (sameFrame(cell.frame, frame)) {
        cell.used = this._generation;
        return cell;
      }
    }
    const cell: InternedFrame = { frame, used: this._generation };
    cells.push(cell);
    this._size++;
    return cell;
  }
}

/** Kernel frames: symbol names only (IG resolves them from /proc/kallsyms). */
export function parseKernelFrames(stack: string, table: FrameInterner): Frame[] {
  const names = splitStackString(stack);
  return names.map((name) =>
    table.intern({ functionName: name === '' ? '[unknown]' : name, frameType: 'kernel' }),
  );
}

function parseBuildIds(buildIds: string): ({ buildId: string; offset: bigint } | undefined)[] {
  return splitStackString(buildIds).map((entry) => {
    const m = BUILD_ID_ENTRY.exec(entry);
    return m ? { buildId: (m[1] ?? '').toLowerCase(), offset: BigInt(`0x${m[2] ?? '0'}`) } : undefined;
  });
}

/** `<module>+0x<offset>` parts of a symbol; the substring test spares most names the regex and its match array. */
function moduleOffsetOf(name: string): RegExpExecArray | null {
  return name.includes('+0x') ? MODULE_OFFSET.exec(name) : null;
}

/** The process address of frame `i` from the sibling addresses, when they line up with the symbols. */
function rawAddressAt(addrs: readonly string[], aligned: boolean, i: number): bigint | undefined {
  const text = aligned ? addrs[i] : undefined;
  return text !== undefined && HEX_ADDRESS.test(text) ? BigInt(text) : undefined;
}

function detectInterpreter(symbols: readonly string[]): FrameType | undefined {
  for (const s of symbols) {
    const m = moduleOffsetOf(s);
    if (!m) continue;
    for (const [pattern, type] of INTERPRETER_MODULES) if (pattern.test(m[1] ?? '')) return type;
  }
  return undefined;
}

/**
 * User frames from the symbols string plus the optional sibling `addresses` and `buildid`
 * strings. Addresses and build ids are attached only when their count equals the symbol count:
 * with the OTel symbolizer interpreted frames are added and the lists no longer line up.
 */
export function parseUserFrames(
  symbols: string,
  addresses: string | undefined,
  buildIds: string | undefined,
  table: FrameInterner,
): Frame[] {
  const names = splitStackString(symbols);
  if (names.length === 0) return [];
  const addrs = addresses ? splitStackString(addresses) : [];
  const ids = buildIds ? parseBuildIds(buildIds) : [];
  const aligned = addrs.length === names.length;
  const idsAligned = ids.length === names.length;
  // Named frames on the leaf side of the interpreter's own native frames are interpreted frames.
  const interpreter = !aligned ? detectInterpreter(names) : undefined;
  let interpretedZone = interpreter !== undefined;

  const frames: Frame[] = [];
  for (let i = 0; i < names.length; i++) {
    const name = names[i] ?? '';
    const build = idsAligned ? ids[i] : undefined;
    const moduleOffset = moduleOffsetOf(name);
    // One complete literal per shape (no spreads, no keys added later): optional fields are present
    // only when set, and every field sits inside the object, which the generator reads fastest.
    let frame: Frame;
    if (moduleOffset) {
      interpretedZone = false;
      const module = moduleOffset[1] ?? '';
      const address = BigInt(`0x${moduleOffset[2] ?? '0'}`);
      frame = build
        ? { module, address, frameType: 'native', buildId: build.buildId }
        : { module, address, frameType: 'native' };
    } else if (name === '' || HEX_ADDRESS.test(name)) {
      const address = build ? undefined : name === '' ? rawAddressAt(addrs, aligned, i) : BigInt(name);
      frame = build
        ? { frameType: 'native', buildId: build.buildId, address: build.offset }
        : address !== undefined
          ? { frameType: 'native', address }
          : { frameType: 'native', functionName: '[unknown]' };
    } else {
      const frameType = interpretedZone && interpreter ? interpreter : 'native';
      const address = build ? undefined : rawAddressAt(addrs, aligned, i);
      frame = build
        ? { functionName: name, frameType, buildId: build.buildId, address: build.offset }
        : address !== undefined
          ? { functionName: name, frameType, address }
          : { functionName: name, frameType };
    }
    frames.push(table.intern(frame));
  }
  return frames;
}

/** The stand-in frame for a row with no frames, so its samples stay visible and countable. */
export function placeholderFrame(table: FrameInterner): Frame {
  return table.intern({ functionName: NO_STACK_PLACEHOLDER, frameType: 'unknown' });
}
