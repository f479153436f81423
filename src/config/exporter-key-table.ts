import type { DocGroup, ExporterKeyRow } from './exporter-schema.js';
import { EXPORTER_ROWS } from './exporter-schema.js';
import type { Cells } from './key-table.js';
import { defaultCell, renderTable, tableProblems } from './key-table.js';

/**
 * The exporter key tables of docs/configuration.md, generated from the schema rows. Each table sits
 * between `<!-- exporter-keys:GROUP -->` and `<!-- /exporter-keys -->`; `npm run docs:config`
 * rewrites them and a test fails (naming the row and the column) when the document and the schema
 * differ.
 */

const BEGIN = (group: string): string => `<!-- exporter-keys:${group} -->`;
const END = '<!-- /exporter-keys -->';
const BLOCK = /<!-- exporter-keys:([a-z]+) -->\n([\s\S]*?)<!-- \/exporter-keys -->/g;

/** The groups whose keys apply to some kinds only, so their table has a Kinds column. */
const GROUPS_WITH_KINDS: readonly DocGroup[] = ['common', 'otlp'];
const DOC_GROUPS: readonly DocGroup[] = [
  'common',
  'otlp',
  'retry',
  'batch',
  'queue',
  'resource',
  'samples',
  'file',
  'pprof',
];

type Column = 'Key' | 'Type' | 'Default' | 'Kinds' | 'Meaning';

function columnsOf(group: DocGroup): readonly Column[] {
  return GROUPS_WITH_KINDS.includes(group)
    ? ['Key', 'Type', 'Default', 'Kinds', 'Meaning']
    : ['Key', 'Type', 'Default', 'Meaning'];
}

function cellsOf(row: ExporterKeyRow): Cells<Column> {
  return {
    Key: `\`${row.key}\``,
    Type: row.type.doc,
    Default: defaultCell(row),
    Kinds: row.appliesTo ? row.appliesTo.join(', ') : 'all',
    Meaning: row.doc.meaning,
  };
}

/** The markdown table of one group, as the document must hold it. */
export function renderKeyTable(group: DocGroup, rows: readonly ExporterKeyRow[] = EXPORTER_ROWS): string {
  return renderTable(columnsOf(group), rows.filter((r) => r.doc.group === group).map(cellsOf));
}

/** `doc` with every key table replaced by the generated one (what `npm run docs:config` writes). */
export function renderKeyTables(doc: string, rows: readonly ExporterKeyRow[] = EXPORTER_ROWS): string {
  return doc.replace(BLOCK, (_all, group: string) => {
    const known = DOC_GROUPS.find((g) => g === group);
    return known ? `${BEGIN(known)}\n\n${renderKeyTable(known, rows)}\n\n${END}` : _all;
  });
}

/**
 * How the key tables of `doc` differ from the schema: a missing or unknown table, a missing row,
 * an extra row, a cell that differs. Empty when the document is current.
 */
export function keyTableProblems(doc: string, rows: readonly ExporterKeyRow[] = EXPORTER_ROWS): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const match of doc.matchAll(BLOCK)) {
    const group = DOC_GROUPS.find((g) => g === match[1]);
    if (!group) {
      problems.push(`unknown key table "${match[1] ?? ''}"`);
      continue;
    }
    seen.add(group);
    const expected = new Map(
      rows.filter((r) => r.doc.group === group).map((r) => [`\`${r.key}\``, cellsOf(r)] as const),
    );
    problems.push(...tableProblems(group, columnsOf(group), expected, match[2] ?? ''));
  }
  for (const group of DOC_GROUPS) {
    if (!seen.has(group) && rows.some((r) => r.doc.group === group)) {
      problems.push(`no key table for ${group} (${BEGIN(group)} … ${END})`);
    }
  }
  return problems;
}
