import type { ValueType } from './value-types.js';

/**
 * A row of a config schema (exporter-schema.ts, section-schema.ts) with its value type erased, for
 * the code that treats every row alike: parsing, `--print-config`, the docs tables.
 */
export interface SchemaRow<K extends string, F extends string, D> {
  /** As written in the file and in `--set`. */
  readonly key: K;
  /** Where the value lands in the loaded configuration. */
  readonly field: F;
  readonly type: ValueType<unknown>;
  readonly default?: unknown;
  readonly doc: D;
}
