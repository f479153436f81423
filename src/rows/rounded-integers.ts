/**
 * Rows whose integers beyond 2^53 may still be rounded, and how they are made exact.
 *
 * Elements the row source splits out of a line are parsed exactly as they arrive. Texts it parses
 * whole (pretty arrays, envelope lines it does not split: `deferred-exact-json.ts`) are parsed with
 * JSON.parse instead, because an exact parse of a whole text costs several JSON.parses while the
 * profile mapping rarely reads a field beyond 2^53 (`kernel_ip`, `runtime.containerStartedAt`).
 * Each row handed out from such a text is tagged with where it came from; the field readers
 * (`fieldAccessor`, `readEnvelope`) call `makeExact` when a value they read could have been rounded
 * (a number beyond ±(2^53 − 1), or an object that may contain one). Nothing rounded ever leaves a
 * reader, and the exact parse runs only for the texts where it matters.
 *
 * The tag is a non-enumerable symbol property, not a WeakMap entry: the source behind a tag
 * reaches the other rows of its line, and WeakMap entries whose values reach their keys cost V8's
 * garbage collector more than the whole parse (measured 3.5× slower on the ingest benchmark).
 */

/** Where a tagged object came from: makes the object at `index` of one parse exact. */
export interface ExactnessSource {
  makeExact(index: number, lossy: object): void;
}

class Origin {
  constructor(
    readonly source: ExactnessSource,
    readonly index: number,
  ) {}
}

const ORIGIN = Symbol('rounded-integers.origin');

type Tagged = { [ORIGIN]?: Origin | undefined };

/** The largest integer a double holds exactly; beyond it JSON.parse may have rounded. */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/** True for a number JSON.parse may have rounded: an integer beyond ±(2^53 − 1). */
export function mayBeRounded(value: unknown): boolean {
  return typeof value === 'number' && (value > MAX_EXACT || value < -MAX_EXACT);
}

/** Tags `objects` (what one parse hands out; `source` knows them by index) as possibly rounded. */
export function deferExactness(objects: readonly (object | undefined)[], source: ExactnessSource): void {
  for (let i = 0; i < objects.length; i++) {
    const o = objects[i];
    if (o !== undefined) Object.defineProperty(o, ORIGIN, { value: new Origin(source, i), writable: true });
  }
}

/** Makes `obj` exact if it is tagged and not yet exact. Returns true when it was, so the caller reads again. */
export function makeExact(obj: object): boolean {
  const tagged = obj as Tagged;
  const origin = tagged[ORIGIN];
  if (origin === undefined) return false;
  tagged[ORIGIN] = undefined;
  origin.source.makeExact(origin.index, obj);
  return true;
}
