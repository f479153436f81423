import type { GadgetRow } from '../../rows/gadget-row.js';
import type { RowBatch, RowSource } from '../../rows/row-batch.js';
import type { Counters } from '../../observability/counters.js';
import type { Logger } from '../../observability/logger.js';
import { rowChecker } from './row-checks.js';

/**
 * A RowSource decorator that drops the rows a profile cannot use (row-checks.ts: a value that is no
 * int64 count, a stack field that is no text), whatever the input. Each is counted as
 * `rows_dropped{reason}`, the first of each reason is warned with its place (`stdin:12`), and in
 * strict mode the first one ends the source with that message, as a malformed line does.
 */

export interface RowCheckOptions {
  readonly counters: Counters;
  readonly logger: Logger;
  /** Fail on the first invalid row instead of dropping and counting it. */
  readonly strict?: boolean;
}

export function withRowChecks(source: RowSource, options: RowCheckOptions): RowSource {
  const { counters, logger } = options;
  const warned = new Set<string>();

  /** The batch's usable rows (the same array when all are). */
  const validRows = (batch: RowBatch): readonly GadgetRow[] => {
    const check = rowChecker(batch.spec);
    const rows = batch.rows;
    let kept: GadgetRow[] | undefined;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as GadgetRow;
      const problem = check(row);
      if (problem === undefined) {
        kept?.push(row);
        continue;
      }
      kept ??= rows.slice(0, i);
      const where = `${batch.origin}: ${problem.detail}`;
      if (options.strict)
        throw new Error(`${where} — stopping (strict mode; run without --strict to drop invalid rows)`);
      counters.add('rows_dropped', 1, { reason: problem.reason });
      if (!warned.has(problem.reason)) {
        warned.add(problem.reason);
        logger.warn(
          `${where} — row dropped (rows_dropped{reason="${problem.reason}"}; further ones are only counted)`,
        );
      }
    }
    return kept ?? rows;
  };

  async function* checked(): AsyncGenerator<RowBatch> {
    for await (const batch of source.batches()) {
      const rows = validRows(batch);
      if (rows === batch.rows) yield batch;
      // A batch left empty still passes when it carries an acknowledgement (a checkpoint moves on).
      else if (rows.length > 0 || batch.acknowledge) yield { ...batch, rows };
    }
  }

  return { batches: checked, stop: () => source.stop() };
}
