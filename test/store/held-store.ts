import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import { join } from 'node:path';
import { silentLogger } from '../../src/observability/logger.js';
import { DuckDBProfileStore } from '../../src/store/duckdb-profile-store.js';
import { StoreDictionary } from '../../src/store/store-dictionary.js';
import { DATABASE_FILE, SCHEMA_DDL } from '../../src/store/store-schema.js';

/**
 * A real DuckDB store whose statements a test can hold, to place queries inside a write (its stacks are in
 * the dictionary, its transaction not yet committed) and between the reads of one query. Writes fail for
 * real: the samples table refuses REFUSED_VALUE (a CHECK constraint DuckDB enforces on append), so a
 * request carrying it rolls its transaction and the dictionary back.
 */

/** A sample value the held store's samples table refuses. */
export const REFUSED_VALUE = 666_666n;

/** Holds the statements it matches until opened. */
export class StatementGate {
  private held:
    | {
        readonly match: (sql: string) => boolean;
        readonly release: Promise<void>;
        readonly open: () => void;
        readonly reached: () => void;
      }
    | undefined;

  /** Holds every statement `match` accepts from now until `open`; resolves once one is held. */
  close(match: (sql: string) => boolean): Promise<void> {
    let open = (): void => undefined;
    const release = new Promise<void>((resolve) => (open = resolve));
    return new Promise<void>((reached) => (this.held = { match, release, open, reached }));
  }

  open(): void {
    const held = this.held;
    this.held = undefined;
    held?.open();
  }

  async pass(sql: string): Promise<void> {
    const held = this.held;
    if (held === undefined || !held.match(sql)) return;
    held.reached();
    await held.release;
  }
}

export interface HeldStore {
  readonly store: DuckDBProfileStore;
  /** The store's dictionary: tests check that a held write's nodes are in it. */
  readonly dictionary: StoreDictionary;
  /** On the writer connection: hold `BEGIN` to keep a write's stacks in the dictionary, uncommitted. */
  readonly writes: StatementGate;
  /** On the reader connection. */
  readonly reads: StatementGate;
}

function gated(connection: DuckDBConnection, gate: StatementGate): DuckDBConnection {
  return new Proxy(connection, {
    get(target, property) {
      if (property === 'run')
        return async (...args: Parameters<DuckDBConnection['run']>) => {
          await gate.pass(args[0]);
          return target.run(...args);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Opens the store in `dir` (an empty temp dir of the test's own: no lock, no retention) with gated
 * connections. Closing the store closes the database; `openProfileStore` can open it afterwards.
 */
export async function openHeldStore(dir: string): Promise<HeldStore> {
  const databasePath = join(dir, DATABASE_FILE);
  const instance = await DuckDBInstance.create(databasePath);
  const writer = await instance.connect();
  const reader = await instance.connect();
  // Created before the schema, whose CREATE TABLE IF NOT EXISTS then keeps it, constraint and all.
  const samples = SCHEMA_DDL.find((ddl) => ddl.includes('EXISTS samples'))!;
  await writer.run(samples.replace(/\)\s*$/, `, CHECK (value <> ${REFUSED_VALUE}))`));
  for (const ddl of SCHEMA_DDL) await writer.run(ddl);
  const dictionary = await StoreDictionary.load(writer);
  const writes = new StatementGate();
  const reads = new StatementGate();
  const store = new DuckDBProfileStore({
    dir,
    databasePath,
    instance,
    writer: gated(writer, writes),
    reader: gated(reader, reads),
    dictionary,
    retention: { retentionMs: 0, maxBytes: 0 },
    logger: silentLogger,
    release: () => undefined,
  });
  return { store, dictionary, writes, reads };
}
