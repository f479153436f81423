/**
 * The store's tables. The dictionary (frames, the prefix tree of stacks, series, sample attribute sets) is
 * deduplicated across requests and mirrored in memory (store-dictionary.ts); `samples` holds one row per
 * (time, stack, series, attribute set, trace link), appended in time order so DuckDB skips row groups by
 * their min/max time. No indexes: every query is a scan with zone-map pruning, and appends stay cheap.
 */

/** Bumped when a table changes shape; a store written by another version is refused with a clear message. */
export const SCHEMA_VERSION = '1';

/** The database file inside the data directory (DuckDB keeps its write-ahead log beside it as `.wal`). */
export const DATABASE_FILE = 'profiles.duckdb';

export const SCHEMA_DDL: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS store_meta (key VARCHAR, value VARCHAR)`,
  // One row per distinct frame: function name (or module+address when unsymbolized), frame type, file, mapping.
  `CREATE TABLE IF NOT EXISTS frames (id INTEGER, name VARCHAR, frame_type VARCHAR, file VARCHAR, mapping VARCHAR)`,
  // Global prefix tree of stacks, root first: node 0 is the (implicit) root, child id > parent id.
  `CREATE TABLE IF NOT EXISTS nodes (id INTEGER, parent INTEGER, frame INTEGER)`,
  // A series: one profile type of one resource + scope + profile attributes. labels: JSON [[key, value], ...].
  `CREATE TABLE IF NOT EXISTS series (id INTEGER, sample_type VARCHAR, sample_unit VARCHAR, period_type VARCHAR,
     period_unit VARCHAR, period BIGINT, scope_name VARCHAR, scope_version VARCHAR, labels VARCHAR)`,
  // A distinct set of sample attributes (thread name, ...); id 0 is the empty set (not stored).
  `CREATE TABLE IF NOT EXISTS attribute_sets (id INTEGER, labels VARCHAR)`,
  // time: Unix ns; node: the stack's leaf in the prefix tree; trace_id/span_id: the sample's Link (NULL: none).
  `CREATE TABLE IF NOT EXISTS samples (time BIGINT, value BIGINT, node INTEGER, series INTEGER, attrs INTEGER,
     trace_id UHUGEINT, span_id UBIGINT)`,
];
