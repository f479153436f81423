// Rewrites the exporter key tables of docs/configuration.md from the config schema
// (src/config/exporter-schema.ts). Run: npm run docs:config. test/config/exporter-key-table.test.ts
// fails while the document and the schema differ.
import { readFileSync, writeFileSync } from 'node:fs';
import { keyTableProblems, renderKeyTables } from '../src/config/exporter-key-table.js';

const path = new URL('../docs/configuration.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = renderKeyTables(before);
const left = keyTableProblems(after);
if (left.length > 0) {
  console.error(`docs:config: ${left.join('\n')}`);
  process.exit(1);
}
if (after === before) console.log('docs:config: docs/configuration.md is current');
else {
  writeFileSync(path, after);
  console.log('docs:config: rewrote the exporter key tables of docs/configuration.md');
}
