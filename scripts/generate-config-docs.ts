// Rewrites the key tables of docs/configuration.md from the config schemas: the exporter keys
// (src/config/exporter-schema.ts) and the section's keys (src/config/section-schema.ts). Run:
// npm run docs:config. test/config/exporter-key-table.test.ts and section-key-table.test.ts fail
// while the document and the schemas differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { keyTableProblems, renderKeyTables } from '../src/config/exporter-key-table.js';
import { renderSectionKeyTables, sectionKeyTableProblems } from '../src/config/section-key-table.js';

const path = new URL('../docs/configuration.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = renderSectionKeyTables(renderKeyTables(before));
const left = [...keyTableProblems(after), ...sectionKeyTableProblems(after)];
if (left.length > 0) {
  console.error(`docs:config: ${left.join('\n')}`);
  process.exit(1);
}
if (after === before) console.log('docs:config: docs/configuration.md is current');
else {
  writeFileSync(path, after);
  console.log('docs:config: rewrote the key tables of docs/configuration.md');
}
