import type { DuckDBDataChunk, DuckDBType } from '@duckdb/node-api';
import { DuckDBTypeId } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import { errorText } from '../util/error-text.js';

/**
 * Fills one column of a DuckDB data chunk from a slice of a column-wise array. The vectors of
 * `@duckdb/node-api` take one value at a time (`setItem`: a range check per value, a NULL-mask bit set
 * with BigInt shifts per NULL, then `flush()` copies their buffer): ~170 ms of JS for the receiver
 * benchmark's 54k sample rows × 7 columns (profiled). Here a typed array of the vector's exact width goes
 * in with one memory copy, and a nullable 64/128-bit integer column (the samples' trace links, mostly NULL)
 * is built as one data buffer plus a NULL mask of whole 64-bit words, then copied. Everything else
 * (strings, nullable plain-array columns of other types) keeps the vectors' own per-value path.
 *
 * The copies go through `@duckdb/node-bindings` (the same calls the vectors' `flush()` makes), pinned to
 * the version `@duckdb/node-api` depends on; test/store/chunk-column-writer.test.ts round-trips every
 * type handled here through a real DuckDB, so a changed binding fails there.
 */

/** How a column gets into a chunk: one copy, a built buffer + NULL mask, or the vector's `setItem` per value. */
export type ColumnWritePath = 'copy' | 'masked' | 'items';

export interface ColumnWriter {
  readonly path: ColumnWritePath;
  /** Writes rows [start, start + n) of the column into column `c` of `chunk`, whose row count is n. */
  write(chunk: DuckDBDataChunk, c: number, start: number, n: number): void;
}

export type FixedWidthArray =
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

type FixedWidthArrayClass = abstract new (length: number) => FixedWidthArray;

/** The typed array whose elements have exactly a type's in-vector representation (both native-endian). */
const ARRAY_CLASS_OF_TYPE: ReadonlyMap<DuckDBTypeId, FixedWidthArrayClass> = new Map<
  DuckDBTypeId,
  FixedWidthArrayClass
>([
  [DuckDBTypeId.TINYINT, Int8Array],
  [DuckDBTypeId.UTINYINT, Uint8Array],
  [DuckDBTypeId.SMALLINT, Int16Array],
  [DuckDBTypeId.USMALLINT, Uint16Array],
  [DuckDBTypeId.INTEGER, Int32Array],
  [DuckDBTypeId.UINTEGER, Uint32Array],
  [DuckDBTypeId.BIGINT, BigInt64Array],
  [DuckDBTypeId.UBIGINT, BigUint64Array],
  [DuckDBTypeId.FLOAT, Float32Array],
  [DuckDBTypeId.DOUBLE, Float64Array],
]);

interface WideInteger {
  readonly bits: 64 | 128;
  readonly signed: boolean;
}

/** Integer types whose values are bigints: in a vector, 128-bit ones are (lower, upper) 64-bit words. */
const WIDE_INTEGERS: ReadonlyMap<DuckDBTypeId, WideInteger> = new Map<DuckDBTypeId, WideInteger>([
  [DuckDBTypeId.BIGINT, { bits: 64, signed: true }],
  [DuckDBTypeId.UBIGINT, { bits: 64, signed: false }],
  [DuckDBTypeId.HUGEINT, { bits: 128, signed: true }],
  [DuckDBTypeId.UHUGEINT, { bits: 128, signed: false }],
]);

interface ItemVector {
  setItem(index: number, value: unknown): void;
  flush(): void;
}

/**
 * The writer for one column of `type`. `label` names the column in errors (e.g. `samples column 5`).
 * The caller guarantees the column holds at least as many values as rows are written.
 */
export function columnWriter(type: DuckDBType, column: ArrayLike<unknown>, label: string): ColumnWriter {
  const arrayClass = ARRAY_CLASS_OF_TYPE.get(type.typeId);
  // The binding copies from an ArrayBuffer only (not a SharedArrayBuffer).
  if (arrayClass && column instanceof arrayClass && column.buffer instanceof ArrayBuffer) {
    return copyWriter(column.buffer, column.byteOffset, column.BYTES_PER_ELEMENT);
  }
  const wide = WIDE_INTEGERS.get(type.typeId);
  if (wide && !ArrayBuffer.isView(column)) return maskedWriter(wide, type, column, label);
  return itemWriter(column, label);
}

function copyWriter(buffer: ArrayBuffer, byteOffset: number, width: number): ColumnWriter {
  return {
    path: 'copy',
    write(chunk, c, start, n) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
      duckdb.copy_data_to_vector(vector, 0, buffer, byteOffset + start * width, n * width);
    },
  };
}

function maskedWriter(
  wide: WideInteger,
  type: DuckDBType,
  column: ArrayLike<unknown>,
  label: string,
): ColumnWriter {
  const words = wide.bits / 64;
  return {
    path: 'masked',
    write(chunk, c, start, n) {
      const data = new BigUint64Array(n * words);
      // Valid bits gathered in 32-bit halves (plain number operations), joined into 64-bit words below.
      const halves = new Uint32Array(Math.ceil(n / 64) * 2);
      let valid = 0;
      for (let i = 0; i < n; i++) {
        const value = column[start + i];
        if (value === null || value === undefined) continue;
        if (typeof value !== 'bigint' || !fits(wide, value)) {
          throw new RangeError(
            `${label}, row ${start + i}: ${shown(value)} is not a ${type.toString()} (a bigint of ` +
              `${wide.signed ? 'signed' : 'unsigned'} ${wide.bits} bits, or null)`,
          );
        }
        data[i * words] = BigInt.asUintN(64, value);
        if (words === 2) data[i * 2 + 1] = BigInt.asUintN(64, value >> 64n);
        halves[i >>> 5]! |= 1 << (i & 31);
        valid++;
      }
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, c);
      // A NULL row's data slot is never read, so an all-NULL slice needs only its mask.
      if (valid > 0) duckdb.copy_data_to_vector(vector, 0, data.buffer, 0, data.byteLength);
      if (valid < n) {
        const mask = new BigUint64Array(halves.length / 2);
        for (let w = 0; w < mask.length; w++) {
          mask[w] = BigInt(halves[w * 2]!) | (BigInt(halves[w * 2 + 1]!) << 32n);
        }
        duckdb.vector_ensure_validity_writable(vector);
        duckdb.copy_data_to_vector_validity(vector, 0, mask.buffer, 0, mask.byteLength);
      }
    },
  };
}

function shown(value: unknown): string {
  return typeof value === 'bigint' || typeof value === 'number' ? String(value) : `a ${typeof value}`;
}

function fits(wide: WideInteger, value: bigint): boolean {
  return (wide.signed ? BigInt.asIntN(wide.bits, value) : BigInt.asUintN(wide.bits, value)) === value;
}

function itemWriter(column: ArrayLike<unknown>, label: string): ColumnWriter {
  return {
    path: 'items',
    write(chunk, c, start, n) {
      const vector = chunk.getColumnVector(c) as unknown as ItemVector;
      let i = 0;
      try {
        for (; i < n; i++) vector.setItem(i, column[start + i] ?? null);
      } catch (err) {
        throw new RangeError(`${label}, row ${start + i}: ${errorText(err)}`, { cause: err });
      }
      vector.flush();
    },
  };
}
