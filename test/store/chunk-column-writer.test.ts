import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import {
  BIGINT,
  DOUBLE,
  DuckDBInstance,
  FLOAT,
  HUGEINT,
  INTEGER,
  SMALLINT,
  TINYINT,
  UBIGINT,
  UHUGEINT,
  UINTEGER,
  USMALLINT,
  UTINYINT,
  VARCHAR,
} from '@duckdb/node-api';
import type { FixedWidthArray } from '../../src/store/chunk-column-writer.js';
import { columnWriter } from '../../src/store/chunk-column-writer.js';
import { appendColumns, readColumns } from '../../src/store/duckdb-io.js';

/** Row counts around DuckDB's 2,048-row data chunk (and a third chunk). */
const SIZES = [1, 2047, 2048, 2049, 4097];

type FixedArray = FixedWidthArray;

interface FixedCase {
  readonly type: DuckDBType;
  /** A column of n rows: the type's limits among values that differ from row to row. */
  readonly column: (n: number) => FixedArray;
}

/** Row i: one of `limits` every 5th row, otherwise `spread(i)` (so a shifted copy shows). */
function rowValues<T>(n: number, limits: readonly T[], spread: (i: number) => T): T[] {
  return Array.from({ length: n }, (_, i) => (i % 5 === 0 ? limits[(i / 5) % limits.length]! : spread(i)));
}

function intSpread(bits: number, signed: boolean): (i: number) => number {
  return (i) => {
    const v = BigInt(i) * 2654435761n;
    return Number(signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v));
  };
}

function bigSpread(bits: number, signed: boolean): (i: number) => bigint {
  return (i) => {
    const v = BigInt(i + 1) * 0x9e3779b97f4a7c15f39cc0605cedc835n;
    return signed ? BigInt.asIntN(bits, v) : BigInt.asUintN(bits, v);
  };
}

const FLOAT_MAX = Math.fround(3.4028234663852886e38);

const FIXED_CASES: readonly FixedCase[] = [
  { type: TINYINT, column: (n) => Int8Array.from(rowValues(n, [-128, 127, 0, -1], intSpread(8, true))) },
  { type: UTINYINT, column: (n) => Uint8Array.from(rowValues(n, [0, 255, 1], intSpread(8, false))) },
  {
    type: SMALLINT,
    column: (n) => Int16Array.from(rowValues(n, [-32768, 32767, 0, -1], intSpread(16, true))),
  },
  { type: USMALLINT, column: (n) => Uint16Array.from(rowValues(n, [0, 65535], intSpread(16, false))) },
  {
    type: INTEGER,
    column: (n) => Int32Array.from(rowValues(n, [-(2 ** 31), 2 ** 31 - 1, 0, -1], intSpread(32, true))),
  },
  {
    type: UINTEGER,
    column: (n) => Uint32Array.from(rowValues(n, [0, 2 ** 32 - 1, 2 ** 31], intSpread(32, false))),
  },
  {
    type: BIGINT,
    column: (n) =>
      BigInt64Array.from(rowValues(n, [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n], bigSpread(64, true))),
  },
  {
    type: UBIGINT,
    column: (n) => BigUint64Array.from(rowValues(n, [0n, 2n ** 64n - 1n, 2n ** 63n], bigSpread(64, false))),
  },
  {
    type: FLOAT,
    column: (n) =>
      Float32Array.from(rowValues(n, [FLOAT_MAX, -FLOAT_MAX, -Infinity, 2 ** -149], (i) => i * 0.5 - 1000)),
  },
  {
    type: DOUBLE,
    column: (n) =>
      Float64Array.from(
        rowValues(n, [Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 0.1], (i) => i / 3 - 700),
      ),
  },
];

interface WideCase {
  readonly type: DuckDBType;
  readonly limits: readonly bigint[];
  readonly spread: (i: number) => bigint;
}

const WIDE_CASES: readonly WideCase[] = [
  { type: BIGINT, limits: [-(2n ** 63n), 2n ** 63n - 1n, 0n, -1n], spread: bigSpread(64, true) },
  { type: UBIGINT, limits: [2n ** 64n - 1n, 0n, 2n ** 63n], spread: bigSpread(64, false) },
  {
    type: HUGEINT,
    limits: [-(2n ** 127n), 2n ** 127n - 1n, -1n, 2n ** 64n, -(2n ** 64n)],
    spread: bigSpread(128, true),
  },
  { type: UHUGEINT, limits: [2n ** 128n - 1n, 2n ** 64n, 2n ** 64n - 1n, 0n], spread: bigSpread(128, false) },
];

/** Which rows are NULL: none, all, most (the samples' trace links), and runs across mask-word edges. */
const NULL_PATTERNS: readonly { readonly name: string; readonly isNull: (i: number) => boolean }[] = [
  { name: 'no NULL', isNull: () => false },
  { name: 'all NULL', isNull: () => true },
  { name: 'mostly NULL', isNull: (i) => i % 97 !== 3 },
  { name: 'alternating', isNull: (i) => i % 2 === 0 },
  { name: 'NULL around bits 31/32 and 63/64 of each word', isNull: (i) => [30, 31, 32, 63].includes(i % 64) },
  { name: 'NULL at the chunk edges', isNull: (i) => [0, 2046, 2047, 2048].includes(i) },
];

describe('appendColumns: each column into DuckDB data chunks', () => {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  let tables = 0;

  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  after(() => {
    connection.closeSync();
    instance.closeSync();
  });

  /** Appends the columns to a new table of `types` and reads every column back in row order. */
  async function roundTrip(
    types: readonly DuckDBType[],
    columns: readonly ArrayLike<unknown>[],
    count: number,
  ): Promise<unknown[][]> {
    const table = `t${tables++}`;
    const columnsSql = types.map((t, c) => `c${c} ${t.toString()}`).join(', ');
    await connection.run(`CREATE TABLE ${table} (${columnsSql})`);
    await appendColumns(connection, table, types, columns, count);
    return readColumns(connection, `SELECT * FROM ${table} ORDER BY rowid`);
  }

  for (const { type, column } of FIXED_CASES) {
    it(`copies a ${type.toString()} typed array in bulk, limits and chunk edges intact`, async () => {
      assert.equal(columnWriter(type, column(1), 'x').path, 'copy');
      for (const n of SIZES) {
        const values = column(n);
        const expected = Array.from(values as ArrayLike<number | bigint>);
        const [stored] = await roundTrip([type], [values], n);
        assert.deepEqual(stored, expected, `${n} rows`);
      }
    });
  }

  it('copies the slice of a typed array that is a view into a larger buffer', async () => {
    const whole = BigInt64Array.from({ length: 5000 }, (_, i) => BigInt(i) - 2500n);
    const view = whole.subarray(1000, 3100);
    const [stored] = await roundTrip([BIGINT], [view], view.length);
    assert.deepEqual(stored, Array.from(view));
  });

  for (const { type, limits, spread } of WIDE_CASES) {
    it(`writes a nullable ${type.toString()} column as a buffer plus a word-wise NULL mask`, async () => {
      assert.equal(columnWriter(type, [1n, null], 'x').path, 'masked');
      for (const pattern of NULL_PATTERNS) {
        for (const n of SIZES) {
          const values = rowValues(n, limits, spread).map((v, i) => (pattern.isNull(i) ? null : v));
          const [stored] = await roundTrip([type], [values], n);
          assert.deepEqual(stored, values, `${pattern.name}, ${n} rows`);
        }
      }
    });
  }

  it('stores the samples table shape (typed columns, mostly-NULL links) across three chunks', async () => {
    const n = 4099;
    const time = BigInt64Array.from({ length: n }, (_, i) => 1_700_000_000_000_000_000n + BigInt(i) * 1000n);
    const value = BigInt64Array.from({ length: n }, (_, i) => BigInt((i * 7919) % 100_003));
    const node = Int32Array.from({ length: n }, (_, i) => (i * 31) % 50_000);
    const series = Int32Array.from({ length: n }, (_, i) => i % 200);
    const attrs = Int32Array.from({ length: n }, (_, i) => i % 3);
    const traceId = Array.from({ length: n }, (_, i) =>
      i % 500 === 7 ? 0x0af7651916cd43dd8448eb211c80319cn + BigInt(i) : null,
    );
    const spanId = traceId.map((t) => (t === null ? null : BigInt.asUintN(64, t)));
    const types = [BIGINT, BIGINT, INTEGER, INTEGER, INTEGER, UHUGEINT, UBIGINT];
    const columns = [time, value, node, series, attrs, traceId, spanId];
    assert.deepEqual(
      columns.map((column, c) => columnWriter(types[c]!, column, 'samples').path),
      ['copy', 'copy', 'copy', 'copy', 'copy', 'masked', 'masked'],
    );
    const stored = await roundTrip(types, columns, n);
    assert.deepEqual(stored, [
      Array.from(time),
      Array.from(value),
      Array.from(node),
      Array.from(series),
      Array.from(attrs),
      traceId,
      spanId,
    ]);
  });

  it('keeps the per-value path for strings and nullable plain-array numbers', async () => {
    const n = 2049;
    const ids = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? null : i - 1000));
    const names = Array.from({ length: n }, (_, i) =>
      i % 7 === 0 ? null : `frame ${i} ${'x'.repeat(i % 20)}`,
    );
    const widths = Array.from({ length: n }, (_, i) => i / 4);
    assert.equal(columnWriter(INTEGER, ids, 'x').path, 'items');
    assert.equal(columnWriter(VARCHAR, names, 'x').path, 'items');
    // A typed array of another width than the column's is converted value by value.
    assert.equal(columnWriter(DOUBLE, Float32Array.from(widths), 'x').path, 'items');
    assert.equal(columnWriter(HUGEINT, BigInt64Array.of(-1n), 'x').path, 'items');
    const stored = await roundTrip([INTEGER, VARCHAR, DOUBLE], [ids, names, Float32Array.from(widths)], n);
    assert.deepEqual(stored, [ids, names, widths]);
  });

  it('writes nothing for empty input, typed or not', async () => {
    const stored = await roundTrip([BIGINT, UHUGEINT, VARCHAR], [new BigInt64Array(0), [], []], 0);
    assert.deepEqual(stored, [[], [], []]);
  });

  it('refuses a value outside the column type, naming the table, column and row', async () => {
    await connection.run('CREATE TABLE bad (a INTEGER, b UHUGEINT)');
    const ints = Int32Array.of(1, 2, 3);
    await assert.rejects(
      appendColumns(connection, 'bad', [INTEGER, UHUGEINT], [ints, [null, -1n, null]], 3),
      {
        name: 'RangeError',
        message: /^bad column 1, row 1: -1 is not a UHUGEINT \(a bigint of unsigned 128 bits, or null\)$/,
      },
    );
    await assert.rejects(appendColumns(connection, 'bad', [INTEGER, UHUGEINT], [ints, [null, null, 5]], 3), {
      message: /^bad column 1, row 2: 5 is not a UHUGEINT/,
    });
    await assert.rejects(
      appendColumns(
        connection,
        'bad',
        [INTEGER, UHUGEINT],
        [
          [1, 2 ** 31, 3],
          [null, null, null],
        ],
        3,
      ),
      { message: /^bad column 0, row 1: .*int32 range/ },
    );
  });

  it('refuses a column shorter than the row count, or a column count that differs from the types', async () => {
    await connection.run('CREATE TABLE short (a BIGINT, b INTEGER)');
    await assert.rejects(
      appendColumns(
        connection,
        'short',
        [BIGINT, INTEGER],
        [new BigInt64Array(2048), new Int32Array(2047)],
        2048,
      ),
      { message: 'short column 1: 2047 values for 2048 rows' },
    );
    await assert.rejects(appendColumns(connection, 'short', [BIGINT, INTEGER], [new BigInt64Array(1)], 1), {
      message: 'short: 1 columns given for 2 column types',
    });
    const [rows] = await readColumns(connection, 'SELECT count(*) FROM short');
    assert.deepEqual(rows, [0n]);
  });

  it('uses the @duckdb/node-bindings that @duckdb/node-api was built against (pinned to the same version)', () => {
    const require = createRequire(import.meta.url);
    const api = JSON.parse(
      readFileSync(join(dirname(dirname(require.resolve('@duckdb/node-api'))), 'package.json'), 'utf8'),
    ) as { dependencies: Record<string, string> };
    const bindings = JSON.parse(
      readFileSync(join(dirname(require.resolve('@duckdb/node-bindings')), 'package.json'), 'utf8'),
    ) as { version: string };
    const ours = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    assert.equal(ours.dependencies['@duckdb/node-bindings'], api.dependencies['@duckdb/node-bindings']);
    assert.equal(bindings.version, api.dependencies['@duckdb/node-bindings']);
  });
});
