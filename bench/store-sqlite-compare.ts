import { DuckDBInstance } from '@duckdb/node-api';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCHEMA_DDL } from '../src/store/store-schema.js';

/**
 * One-off comparison behind the DuckDB decision in docs/dependencies.md (not part of `npm run bench`: it
 * needs the `sqlite3` command-line shell, Debian's `sqlite3`). `node --import tsx bench/store-sqlite-compare.ts [rows]`
 * builds the store's `samples` table with `rows` rows (Zipf-like popularity over 50,000 stacks, 200 series,
 * 10 attribute sets, time ordered) in DuckDB, copies the same rows into SQLite (WAL, an index on time), and
 * times the flame graph's scan in both: `GROUP BY node` over all rows and over a 25 % time window.
 */
const rows = Number(process.argv[2] ?? 1_000_000);
const dir = mkdtempSync(join(tmpdir(), 'store-sqlite-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
try {
  const duckPath = join(dir, 'p.duckdb');
  const db = await DuckDBInstance.create(duckPath);
  const c = await db.connect();
  await c.run(SCHEMA_DDL.find((d) => d.includes('TABLE IF NOT EXISTS samples'))!);
  await c.run(
    `INSERT INTO samples SELECT 1763800000000000000 + i * 1000000, 1 + (hash(i) % 5)::BIGINT,
       (50000 * pow(((hash(i * 3) % 1000000) + 1) / 1000000.0, 3))::INTEGER, (hash(i * 5) % 200)::INTEGER,
       (hash(i * 7) % 10)::INTEGER, NULL, NULL FROM range(${rows}) t(i)`,
  );
  await c.run('CHECKPOINT');
  const csv = join(dir, 'samples.csv');
  await c.run(`COPY (SELECT time, value, node, series, attrs FROM samples) TO '${csv}' (HEADER false)`);
  const cut = 1763800000000000000n + BigInt(Math.floor(rows * 0.75)) * 1000000n;
  const time = async (sql: string): Promise<number> => {
    const runs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t = performance.now();
      await c.runAndReadAll(sql);
      runs.push(performance.now() - t);
    }
    return median(runs.slice(1));
  };
  const duckAll = await time('SELECT node, SUM(value) FROM samples GROUP BY node');
  const duckWindow = await time(`SELECT node, SUM(value) FROM samples WHERE time >= ${cut} GROUP BY node`);
  c.closeSync();
  db.closeSync();

  const litePath = join(dir, 'p.sqlite');
  const sqlite = (script: string): string =>
    execFileSync('sqlite3', [litePath], { input: script, encoding: 'utf8' });
  const t0 = performance.now();
  // Dot-commands must start their line.
  sqlite(
    [
      'PRAGMA journal_mode=WAL;',
      'CREATE TABLE samples (time INTEGER, value INTEGER, node INTEGER, series INTEGER, attrs INTEGER);',
      '.mode csv',
      `.import ${csv} samples`,
      'CREATE INDEX samples_time ON samples(time);',
    ].join('\n'),
  );
  const liteLoadMs = performance.now() - t0;
  // Wrapped in a count so the shell does not print 50,000 rows (the grouping still runs in full).
  const liteTime = (groupBy: string): number => {
    const sql = `SELECT COUNT(*), SUM(s) FROM (${groupBy.replace('SUM(value)', 'SUM(value) AS s')})`;
    const out = sqlite(`.timer on\n${sql};\n${sql};\n${sql};\n`);
    const real = [...out.matchAll(/Run Time: real ([\d.]+)/g)].map((m) => Number(m[1]) * 1000);
    return median(real);
  };
  const liteAll = liteTime('SELECT node, SUM(value) FROM samples GROUP BY node');
  const liteWindow = liteTime(`SELECT node, SUM(value) FROM samples WHERE time >= ${cut} GROUP BY node`);
  const size = (p: string): number =>
    statSync(p).size + (statSync(`${p}.wal`, { throwIfNoEntry: false })?.size ?? 0);
  process.stdout.write(
    `${JSON.stringify({
      rows,
      duckdb: { groupByAllMs: duckAll, window25Ms: duckWindow, bytes: size(duckPath) },
      sqlite: { groupByAllMs: liteAll, window25Ms: liteWindow, bytes: size(litePath), loadMs: liteLoadMs },
    })}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
