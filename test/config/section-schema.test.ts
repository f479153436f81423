import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseConfigFile } from '../../src/config/config-file.js';
import { SECTION_KEYS, SECTION_ROWS } from '../../src/config/section-schema.js';
import { load } from '../support/config-fixtures.js';

/** Fields of LoadedConfig that are not keys of the section. */
const NOT_SECTION_FIELDS = [
  'exporters',
  'serviceNameFromEnv',
  'resourceAttributesFromEnv',
  'sources',
  'configured',
  'lines',
];

describe("the section's schema", () => {
  it('declares each key, field, flag and variable once', () => {
    for (const values of [
      SECTION_ROWS.map((r) => r.key),
      SECTION_ROWS.map((r) => r.field),
      SECTION_ROWS.flatMap((r) => (r.flag ? [r.flag.name, r.flag.field] : [])),
      SECTION_ROWS.flatMap((r) => (r.env ? [r.env.variable] : [])),
    ]) {
      assert.equal(new Set(values).size, values.length, values.join(', '));
    }
  });

  it('every setting of the loaded config that is not an exporter has a row', () => {
    const fields = Object.keys(load({ flags: { telemetryAddress: ':9464' } })).filter(
      (f) => !NOT_SECTION_FIELDS.includes(f),
    );
    assert.deepEqual(
      fields.filter((f) => !SECTION_ROWS.some((r) => r.field === f)),
      [],
      'a field of the loaded config without a row in section-schema.ts',
    );
  });

  it('every key docs/configuration.md names under operator.otel-profiles has a row', () => {
    const doc = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
    // A line showing a "did you mean" message misspells a key on purpose.
    const lines = doc.split('\n').filter((line) => !line.includes('did you mean'));
    const named = new Set(
      lines.flatMap((line) =>
        [...line.matchAll(/operator\.otel-profiles\.([a-z0-9-]+)/g)].map((m) => m[1] ?? ''),
      ),
    );
    named.delete('exporters');
    assert.ok(named.size >= 4, [...named].join(', '));
    assert.deepEqual(
      [...named].filter((k) => !(SECTION_KEYS as readonly string[]).includes(k)),
      [],
    );
  });

  it('the file reads exactly the keys of the rows (and exporters); others are ignored', () => {
    const lines = SECTION_ROWS.map((r) => `    ${r.key}: x`);
    const file = parseConfigFile(
      `operator:\n  otel-profiles:\n${lines.join('\n')}\n    log-colour: red\n    exporters: {}\n`,
      'a.yaml',
      {},
    );
    assert.deepEqual(file.ignoredKeys, ['operator.otel-profiles.log-colour']);
    for (const row of SECTION_ROWS) assert.equal(file[row.field], 'x', row.key);
  });

  it('every default is a value of its type, and prints to text that parses back to it', () => {
    for (const row of SECTION_ROWS) {
      if (row.default === undefined) continue;
      assert.ok(row.type.is(row.default), row.key);
      const parsed = row.type.parse(row.type.print(row.default));
      assert.equal(parsed.ok, true, row.key);
      assert.deepEqual(parsed.ok && row.type.print(parsed.value), row.type.print(row.default), row.key);
    }
  });
});
