import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DuckDBDataChunk } from '@duckdb/node-api';
import { columnWriter } from './chunk-column-writer.js';
import { grownArray } from '../util/grown-array.js';

/**
 * Bulk writes and reads with DuckDB in data chunks. Measured here: the appender row by row took 1.7 s for
 * 1M rows, whole chunks 0.5 s; reading column vectors avoids building a JS object per row. Within a chunk,
 * typed-array columns are copied in bulk and nullable 64/128-bit columns written with a word-wise NULL mask
 * (chunk-column-writer.ts) instead of through node-api's per-value `setItem`: in a CPU profile of the receiver
 * benchmark that took this function from 317 to 150 ms, the rest mostly DuckDB's own append.
 */

/** DuckDB's vector size: a data chunk holds at most this many rows. */
const CHUNK_ROWS = 2048;

interface ReadableVector {
  getItem(index: number): unknown;
}

/**
 * Appends `count` rows given column-wise (`columns[c][row]`, typed arrays or plain arrays with null for
 * NULL) to `table` in the connection's transaction.
 */
export async function appendColumns(
  connection: DuckDBConnection,
  table: string,
  types: readonly DuckDBType[],
  columns: readonly ArrayLike<unknown>[],
  count: number,
): Promise<void> {
  if (count === 0) return;
  if (columns.length !== types.length) {
    throw new Error(`${table}: ${columns.length} columns given for ${types.length} column types`);
  }
  const writers = columns.map((column, c) => {
    // A short column would be read past its end by the bulk copies (or turn into NULLs row by row).
    if (column.length < count) {
      throw new Error(`${table} column ${c}: ${column.length} values for ${count} rows`);
    }
    return columnWriter(types[c]!, column, `${table} column ${c}`);
  });
  const appender = await connection.createAppender(table);
  try {
    for (let start = 0; start < count; start += CHUNK_ROWS) {
      const n = Math.min(CHUNK_ROWS, count - start);
      const chunk = DuckDBDataChunk.create(types, n);
      writers.forEach((writer, c) => writer.write(chunk, c, start, n));
      appender.appendDataChunk(chunk);
    }
    appender.flushSync();
  } catch (err) {
    // Closing an appender whose append failed fails too ("transaction is aborted"): keep the append's error.
    try {
      appender.closeSync();
    } catch {
      // The append's error below says what went wrong.
    }
    throw err;
  }
  appender.closeSync();
}

/** Runs `sql` and returns its columns as arrays (values as the vectors give them: number, bigint, string, null). */
export async function readColumns(connection: DuckDBConnection, sql: string): Promise<unknown[][]> {
  const result = await connection.run(sql);
  const columns: unknown[][] = Array.from({ length: result.columnCount }, () => []);
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    for (let c = 0; c < columns.length; c++) {
      const vector = chunk.getColumnVector(c) as unknown as ReadableVector;
      const out = columns[c]!;
      for (let i = 0; i < chunk.rowCount; i++) out.push(vector.getItem(i));
    }
  }
  return columns;
}

/** `(node, SUM(value))` pairs: node ids in an Int32Array, sums exact (SUM of BIGINT is a HUGEINT → bigint). */
export async function readNodeSums(
  connection: DuckDBConnection,
  sql: string,
): Promise<{ nodes: Int32Array; values: bigint[] }> {
  const result = await connection.run(sql);
  let nodes = new Int32Array(CHUNK_ROWS);
  const values: bigint[] = [];
  for (
    let chunk = await result.fetchChunk();
    chunk && chunk.rowCount > 0;
    chunk = await result.fetchChunk()
  ) {
    const nodeVector = chunk.getColumnVector(0) as unknown as ReadableVector;
    const valueVector = chunk.getColumnVector(1) as unknown as ReadableVector;
    if (values.length + chunk.rowCount > nodes.length)
      nodes = grownArray(nodes, values.length + chunk.rowCount);
    for (let i = 0; i < chunk.rowCount; i++) {
      nodes[values.length] = nodeVector.getItem(i) as number;
      values.push(BigInt(valueVector.getItem(i) as bigint));
    }
  }
  return { nodes: nodes.subarray(0, values.length), values };
}
