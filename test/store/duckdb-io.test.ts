import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BIGINT, DuckDBInstance } from '@duckdb/node-api';
import { appendColumns, readColumns } from '../../src/store/duckdb-io.js';

describe('duckdb io', () => {
  it("a refused append fails with DuckDB's reason, not the aborted transaction's, and appends nothing", async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const c = await instance.connect();
    try {
      await c.run('CREATE TABLE t (v BIGINT, CHECK (v <> 13))');
      await c.run('BEGIN TRANSACTION');
      await assert.rejects(
        appendColumns(c, 't', [BIGINT], [[1n, 13n, 2n]], 3),
        /CHECK constraint failed on table t/,
      );
      await c.run('ROLLBACK');
      // Rows over several chunks, then read back column-wise.
      const values = Array.from({ length: 5000 }, (_, i) => BigInt(100 + i));
      await appendColumns(c, 't', [BIGINT], [values], values.length);
      const [count, sum] = await readColumns(c, 'SELECT COUNT(*), SUM(v) FROM t');
      assert.equal(count![0], 5000n);
      assert.equal(BigInt(sum![0] as bigint), (4999n * 5000n) / 2n + 100n * 5000n);
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
