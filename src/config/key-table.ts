import type { SchemaRow } from './schema-row.js';

/**
 * The markdown key tables of docs/configuration.md, whatever their rows: rendering one table, and
 * comparing a table of the document with the rows it must hold (a missing row, an extra row, a
 * cell that differs). exporter-key-table.ts and section-key-table.ts give the rows and columns.
 */

export type Cells<C extends string> = Readonly<Record<C, string>>;

/** The default column: the doc's own text, else the default value, else `—` (unset). */
export function defaultCell(row: SchemaRow<string, string, { readonly default?: string }>): string {
  if (row.doc.default !== undefined) return row.doc.default;
  if (row.default === undefined) return '—';
  if (typeof row.default === 'function' || !row.type.is(row.default)) {
    throw new Error(`${row.key}: a default that depends on the context needs doc.default`);
  }
  return `\`${row.type.docValue(row.default)}\``;
}

/** The markdown table: a header line, the separator, one line per row. */
export function renderTable<C extends string>(columns: readonly C[], rows: readonly Cells<C>[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(columns),
    `|${columns.map(() => '---').join('|')}|`,
    ...rows.map((cells) => line(columns.map((c) => cells[c]))),
  ].join('\n');
}

/** Splits a table row into cells (`\|` inside a cell is not a separator). */
function splitRow(line: string): string[] {
  return line
    .replace(/^\|\s?/, '')
    .replace(/\s?\|$/, '')
    .split(/ (?<!\\)\| /);
}

/**
 * How the table `body` (the text between its markers) differs from `expected`, the cells of each
 * row by its Key cell: `${name} table: …` per extra row, different cell and missing row.
 */
export function tableProblems<C extends string>(
  name: string,
  columns: readonly C[],
  expected: ReadonlyMap<string, Cells<C>>,
  body: string,
): string[] {
  const problems: string[] = [];
  const documented = new Set<string>();
  for (const line of body.split('\n').filter((l) => l.startsWith('| `'))) {
    const cells = splitRow(line);
    const key = cells[0] ?? '';
    documented.add(key);
    const want = expected.get(key);
    if (!want) {
      problems.push(`${name} table: extra row ${key} (no such key in the schema)`);
      continue;
    }
    columns.forEach((column, i) => {
      if (cells[i] !== want[column]) {
        problems.push(
          `${name} table: ${key} ${column.toLowerCase()} is ${JSON.stringify(cells[i] ?? '')}, the schema says ${JSON.stringify(want[column])}`,
        );
      }
    });
  }
  for (const key of expected.keys()) {
    if (!documented.has(key)) problems.push(`${name} table: missing row ${key}`);
  }
  return problems;
}
