import type { Cells } from './key-table.js';
import { defaultCell, renderTable, tableProblems } from './key-table.js';
import type { SectionKeyRow } from './section-schema.js';
import { SECTION_ROWS } from './section-schema.js';

/**
 * The table of the section's keys (`operator.otel-profiles.<key>`) in docs/configuration.md,
 * generated from the rows of section-schema.ts between `<!-- section-keys -->` and
 * `<!-- /section-keys -->`; `npm run docs:config` rewrites it and a test fails (naming the row and
 * the column) when the document and the schema differ.
 */

const BEGIN = '<!-- section-keys -->';
const END = '<!-- /section-keys -->';
const BLOCK = /<!-- section-keys -->\n([\s\S]*?)<!-- \/section-keys -->/g;
/** Names the table in problems (`section table: missing row …`). */
const TABLE = 'section';

const COLUMNS = ['Key', 'Type', 'Default', 'Flag', 'Variable', 'Meaning'] as const;
type Column = (typeof COLUMNS)[number];

function cellsOf(row: SectionKeyRow): Cells<Column> {
  return {
    Key: `\`${row.key}\``,
    Type: row.type.doc,
    Default: defaultCell(row),
    Flag: row.flag ? `\`${row.flag.name}\`` : '—',
    Variable: row.env ? `\`${row.env.variable}\`` : '—',
    Meaning: row.doc.meaning,
  };
}

/** The markdown table of the section's keys, as the document must hold it. */
export function renderSectionKeyTable(rows: readonly SectionKeyRow[] = SECTION_ROWS): string {
  return renderTable(COLUMNS, rows.map(cellsOf));
}

/** `doc` with the section's table replaced by the generated one (what `npm run docs:config` writes). */
export function renderSectionKeyTables(doc: string, rows: readonly SectionKeyRow[] = SECTION_ROWS): string {
  return doc.replace(BLOCK, () => `${BEGIN}\n\n${renderSectionKeyTable(rows)}\n\n${END}`);
}

/** How the section's table in `doc` differs from the schema; empty when the document is current. */
export function sectionKeyTableProblems(
  doc: string,
  rows: readonly SectionKeyRow[] = SECTION_ROWS,
): string[] {
  const blocks = [...doc.matchAll(BLOCK)];
  if (blocks.length === 0) return [`no key table for the section (${BEGIN} … ${END})`];
  if (blocks.length > 1) return [`${blocks.length} section key tables (${BEGIN}): keep one`];
  const expected = new Map(rows.map((r) => [`\`${r.key}\``, cellsOf(r)] as const));
  return tableProblems(TABLE, COLUMNS, expected, blocks[0]?.[1] ?? '');
}
