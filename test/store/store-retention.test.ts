import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { MIN_MAX_BYTES } from '../../src/store/store-retention.js';
import { DATABASE_FILE } from '../../src/store/store-schema.js';
import { captureRequests, expectedSamples, SECOND, selection, T0, tempDir } from './store-fixtures.js';

const MS = 1_000_000n;

describe('store retention', () => {
  it('by age: deletes samples older than the retention, keeps the rest exactly', async () => {
    const dir = tempDir();
    try {
      const requests = captureRequests(4);
      const samples = expectedSamples(requests);
      const store = await openProfileStore(dir.path, { logger: silentLogger, retention: 3_000 });
      // The capture is from 2025: opening with a 3 s retention now would delete it at once, so the test
      // drives the clock: "now" is T0 + 8 s, the cutoff T0 + 5 s.
      for (const r of requests) await store.ingest(r);
      const deleted = await store.runRetention(T0 + 8n * SECOND);
      const kept = samples.filter((s) => s.time >= T0 + 5n * SECOND).reduce((a, s) => a + s.value, 0n);
      assert.ok(deleted > 0);
      assert.equal((await store.flameGraph(selection())).rootTotal, kept.toString());
      const stats = await store.stats();
      assert.ok(stats.oldest! >= T0 + 5n * SECOND);
      assert.equal(stats.deletedByRetention, String(deleted));
      await store.close();
      // On open, with the real clock (2026 and later): everything from 2025 is past a one-hour retention.
      const reopened = await openProfileStore(dir.path, { logger: silentLogger, retention: 3_600_000 });
      assert.equal((await reopened.stats()).samples, '0');
      assert.equal((await reopened.flameGraph(selection())).rootTotal, '0');
      await reopened.close();
    } finally {
      dir.remove();
    }
  });

  it('by size: deletes the oldest samples until the bytes in use fit the cap, and the file stops growing', async () => {
    const dir = tempDir();
    try {
      const store = await openProfileStore(dir.path, { logger: silentLogger });
      for (const r of captureRequests(13)) await store.ingest(r);
      const nodes = (await store.flameGraph(selection())).name.length;
      await store.close();
      // Millions of rows, in time order, straight through DuckDB (ingesting them request by request would
      // take minutes): ~20 MB in use, over the 16 MiB cap.
      const db = await DuckDBInstance.create(join(dir.path, DATABASE_FILE));
      const c = await db.connect();
      const rows = 6_000_000n;
      await c.run(
        `INSERT INTO samples SELECT ${T0 + 3600n * SECOND} + i * ${MS}, 1 + (hash(i) % 97)::BIGINT,
         1 + (hash(i * 7) % ${nodes - 1})::INTEGER, 0, 0, NULL, NULL FROM range(${rows}) t(i)`,
      );
      await c.run('CHECKPOINT');
      c.closeSync();
      db.closeSync();
      const before = await openProfileStore(dir.path, { logger: silentLogger });
      const full = await before.stats();
      await before.close();
      assert.ok(full.usedBytes > MIN_MAX_BYTES * 1.2, `test data uses ${full.usedBytes} bytes`);

      const capped = await openProfileStore(dir.path, { logger: silentLogger, maxBytes: MIN_MAX_BYTES });
      const after = await capped.stats();
      assert.ok(after.usedBytes <= MIN_MAX_BYTES, `${after.usedBytes} bytes in use after retention`);
      assert.ok(BigInt(after.samples) > 0n && BigInt(after.samples) < BigInt(full.samples));
      assert.equal(after.newest, full.newest, 'the newest samples stay');
      assert.ok(after.oldest! > full.oldest!, 'the oldest went first');
      assert.equal(BigInt(after.deletedByRetention), BigInt(full.samples) - BigInt(after.samples));
      // Exactly the rows after the cut remain: none older than the oldest kept is left.
      const range = await capped.timeRange();
      assert.equal(range!.from, after.oldest);
      await capped.close();
      assert.ok(after.bytes <= full.bytes, 'the file does not grow');
    } finally {
      dir.remove();
    }
  });
});
