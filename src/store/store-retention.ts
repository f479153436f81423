import type { DuckDBConnection } from '@duckdb/node-api';
import { statSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import { readColumns } from './duckdb-io.js';

/**
 * Retention by age and by size. Samples are appended in time order, so deleting the oldest empties whole
 * row groups (122,880 rows), which the checkpoint after a delete frees; DuckDB then reuses the freed blocks,
 * so the file stops growing rather than shrinking. The size cap is therefore measured as the blocks in use
 * plus the write-ahead log: what the data really occupies. A delete that frees no block (it only thinned
 * row groups, as in a small store) is followed by rewriting the samples table, which does.
 */

/** When over the size cap, delete down to this share of it, so the next minute's data does not trigger it again. */
const SIZE_TARGET_SHARE = 0.8;
/** Rounds of delete + checkpoint per run when one round did not get under the cap (estimates are by row count). */
const MAX_SIZE_ROUNDS = 4;
/**
 * The smallest size cap honoured: an empty store already takes a few DuckDB blocks (256 KiB each) per table,
 * and below a few row groups deletes free nothing, so a smaller cap would only delete every sample.
 */
export const MIN_MAX_BYTES = 16 * 1024 * 1024;
/** A delete that frees less than this share of the used bytes is followed by a compaction. */
const MIN_FREED_SHARE = 0.02;

export interface RetentionPolicy {
  /** Keep samples this many ms (0 = keep). */
  readonly retentionMs: number;
  /** Cap in bytes (0 = none). */
  readonly maxBytes: number;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Bytes of the store on disk: the database file and its write-ahead log. */
export function storeBytes(databasePath: string): number {
  return fileSize(databasePath) + fileSize(`${databasePath}.wal`);
}

/** Bytes the data occupies: blocks in use plus the write-ahead log (free blocks are reused before the file grows). */
export async function usedBytes(connection: DuckDBConnection, databasePath: string): Promise<number> {
  const [blockSize, usedBlocks] = await readColumns(
    connection,
    'SELECT block_size, used_blocks FROM pragma_database_size()',
  );
  return Number(blockSize![0]) * Number(usedBlocks![0]) + fileSize(`${databasePath}.wal`);
}

/** Rewrites the samples table in time order: frees the blocks of row groups thinned by deletes. */
export async function compactSamples(connection: DuckDBConnection): Promise<void> {
  await connection.run('BEGIN TRANSACTION');
  try {
    await connection.run('CREATE TABLE samples_compacted AS SELECT * FROM samples ORDER BY time');
    await connection.run('DROP TABLE samples');
    await connection.run('ALTER TABLE samples_compacted RENAME TO samples');
    await connection.run('COMMIT');
  } catch (err) {
    await connection.run('ROLLBACK').catch(() => undefined);
    throw err;
  }
  await connection.run('CHECKPOINT');
}

/** Deletes what the policy no longer keeps; returns the number of sample rows deleted. */
export async function applyRetention(
  connection: DuckDBConnection,
  databasePath: string,
  policy: RetentionPolicy,
  nowNs: bigint,
  logger: Logger,
): Promise<number> {
  let deleted = 0;
  if (policy.retentionMs > 0) {
    const cutoff = nowNs - BigInt(Math.floor(policy.retentionMs)) * 1_000_000n;
    const n = (await connection.run(`DELETE FROM samples WHERE time < ${cutoff}`)).rowsChanged;
    if (n > 0) {
      await connection.run('CHECKPOINT');
      logger.info('retention: deleted samples older than the retention', {
        samples: n,
        before: new Date(Number(cutoff / 1_000_000n)).toISOString(),
      });
    }
    deleted += n;
  }
  if (policy.maxBytes > 0) {
    const maxBytes = Math.max(policy.maxBytes, MIN_MAX_BYTES);
    for (let round = 0; round < MAX_SIZE_ROUNDS; round++) {
      const used = await usedBytes(connection, databasePath);
      if (used <= maxBytes) break;
      const [rows] = await readColumns(connection, 'SELECT COUNT(*) FROM samples');
      if (Number(rows![0]) === 0) {
        logger.warn(
          'retention: the store is over --max-size without any samples left (its dictionary alone)',
          {
            bytes: used,
            maxBytes,
          },
        );
        break;
      }
      const share = Math.min(1, Math.max(0.01, 1 - (maxBytes * SIZE_TARGET_SHARE) / used));
      const [cut] = await readColumns(connection, `SELECT quantile_disc(time, ${share}) FROM samples`);
      const n = (await connection.run(`DELETE FROM samples WHERE time <= ${BigInt(cut![0] as bigint)}`))
        .rowsChanged;
      await connection.run('CHECKPOINT');
      if ((await usedBytes(connection, databasePath)) > used * (1 - MIN_FREED_SHARE))
        await compactSamples(connection);
      const after = await usedBytes(connection, databasePath);
      logger.info('retention: deleted the oldest samples to stay under --max-size', {
        samples: n,
        bytesBefore: used,
        bytesAfter: after,
        maxBytes,
      });
      deleted += n;
      if (after > used * (1 - MIN_FREED_SHARE)) {
        logger.warn(
          'retention: deleting samples frees no more space; the rest is the dictionary and fixed overhead',
          {
            bytes: after,
            maxBytes,
          },
        );
        break;
      }
    }
  }
  return deleted;
}
