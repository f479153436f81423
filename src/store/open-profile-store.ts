import { DuckDBInstance } from '@duckdb/node-api';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readColumns } from './duckdb-io.js';
import { DuckDBProfileStore } from './duckdb-profile-store.js';
import type { ProfileStoreOptions } from './profile-store.js';
import { StoreDictionary } from './store-dictionary.js';
import { StoreDirectoryError, StoreLockedError } from './store-errors.js';
import { acquireStoreLock } from './store-lock.js';
import { DATABASE_FILE, SCHEMA_DDL, SCHEMA_VERSION } from './store-schema.js';

/**
 * Opens (or creates) the store in `dir`: takes the directory's lock, opens DuckDB (which replays its
 * write-ahead log, so every acknowledged write is back), loads the dictionary, applies retention once and
 * keeps applying it every minute. Every failure names the directory and the fix; nothing on disk is
 * changed by a failed open.
 */
export async function openProfileStore(
  dir: string,
  options: ProfileStoreOptions,
): Promise<DuckDBProfileStore> {
  const logger = options.logger.child('store');
  const absolute = resolve(dir);
  try {
    mkdirSync(absolute, { recursive: true });
  } catch (err) {
    throw new StoreDirectoryError(
      absolute,
      `cannot create the data directory ${absolute} (${(err as Error).message}); pass a writable --data directory`,
      { cause: err },
    );
  }
  let lock;
  try {
    lock = acquireStoreLock(absolute, logger);
  } catch (err) {
    if (err instanceof StoreLockedError) throw err;
    throw new StoreDirectoryError(
      absolute,
      `cannot write in the data directory ${absolute} (${(err as Error).message}); make it writable ` +
        `(or free space there), or pass another --data directory`,
      { cause: err },
    );
  }
  const databasePath = join(absolute, DATABASE_FILE);
  let instance: DuckDBInstance | undefined;
  try {
    instance = await openDatabase(absolute, databasePath);
    const writer = await instance.connect();
    const reader = await instance.connect();
    for (const ddl of SCHEMA_DDL) await writer.run(ddl);
    await checkSchemaVersion(writer, absolute, databasePath);
    const dictionary = await StoreDictionary.load(writer);
    const store = new DuckDBProfileStore({
      dir: absolute,
      databasePath,
      instance,
      writer,
      reader,
      dictionary,
      retention: { retentionMs: options.retention ?? 0, maxBytes: options.maxBytes ?? 0 },
      logger,
      release: () => lock.release(),
    });
    await store.startRetention();
    logger.info('store open', {
      path: databasePath,
      frames: dictionary.frames.length,
      stackNodes: dictionary.nodeCount,
      series: dictionary.series.length,
    });
    return store;
  } catch (err) {
    instance?.closeSync();
    lock.release();
    throw err;
  }
}

async function openDatabase(dir: string, databasePath: string): Promise<DuckDBInstance> {
  try {
    return await DuckDBInstance.create(databasePath);
  } catch (err) {
    const message = (err as Error).message;
    if (/Could not set lock|Conflicting lock/i.test(message)) {
      const pid = /PID (\d+)/.exec(message);
      throw new StoreLockedError(dir, pid ? Number(pid[1]) : undefined, `DuckDB: ${message}`);
    }
    if (/not a valid DuckDB database|corrupt|checksum|Invalid WAL|WAL/i.test(message))
      throw new StoreDirectoryError(
        dir,
        `the store database ${databasePath} cannot be read (${message}). It was left untouched: move it aside ` +
          `(mv ${databasePath} ${databasePath}.damaged; also its .wal file if present) to start an empty store, ` +
          `and keep the moved file for recovery`,
        { cause: err },
      );
    throw new StoreDirectoryError(
      dir,
      `cannot open the store database ${databasePath} (${message}); check that ${dir} is writable and has free space`,
      { cause: err },
    );
  }
}

async function checkSchemaVersion(
  connection: Awaited<ReturnType<DuckDBInstance['connect']>>,
  dir: string,
  databasePath: string,
): Promise<void> {
  const [values] = await readColumns(connection, `SELECT value FROM store_meta WHERE key = 'schema_version'`);
  const stored = values![0];
  if (stored === undefined) {
    await connection.run(`INSERT INTO store_meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    return;
  }
  if (stored !== SCHEMA_VERSION)
    throw new StoreDirectoryError(
      dir,
      `the store database ${databasePath} has schema version ${stored as string}, this serve writes version ` +
        `${SCHEMA_VERSION}; use the serve version that wrote it, or pass another --data directory`,
    );
}
