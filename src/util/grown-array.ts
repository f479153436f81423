/**
 * A larger copy of a growing typed array, for the tables and buffers that append in place: at least
 * double the length (appends stay amortised O(1)) and at least `atLeast`, holding the first `used`
 * elements of `a` (all of them by default).
 */
export function grownArray<T extends Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>>(
  a: T,
  atLeast = 0,
  used = a.length,
): T {
  const next = new (a.constructor as new (length: number) => T)(Math.max(atLeast, a.length * 2));
  next.set(used === a.length ? a : a.subarray(0, used));
  return next;
}
