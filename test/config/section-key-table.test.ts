import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  renderSectionKeyTable,
  renderSectionKeyTables,
  sectionKeyTableProblems,
} from '../../src/config/section-key-table.js';
import { SECTION_ROWS } from '../../src/config/section-schema.js';

const DOC_PATH = new URL('../../docs/configuration.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');

describe("the section's key table of docs/configuration.md", () => {
  it('matches the schema row for row (run `npm run docs:config` after changing a key)', () => {
    assert.deepEqual(sectionKeyTableProblems(doc), []);
    assert.equal(renderSectionKeyTables(doc), doc, 'the generated table is the one in the document');
  });

  it('documents every key of the section exactly once', () => {
    const documented = [...doc.matchAll(/^\| `([a-z0-9-]+)` \|/gm)].map((m) => m[1]);
    for (const row of SECTION_ROWS) {
      assert.equal(documented.filter((k) => k === row.key).length, 1, row.key);
    }
  });

  it('a missing row is reported', () => {
    const without = doc.replace(/^\| `log-format` \|.*\n/m, '');
    assert.notEqual(without, doc);
    assert.deepEqual(sectionKeyTableProblems(without), ['section table: missing row `log-format`']);
  });

  it('an extra row is reported', () => {
    const extra = doc.replace(
      /^(\| `log-level` \|.*\n)/m,
      '$1| `log-colour` | bool | `false` | — | — | Made up. |\n',
    );
    assert.deepEqual(sectionKeyTableProblems(extra), [
      'section table: extra row `log-colour` (no such key in the schema)',
    ]);
  });

  it('a different default, type, flag or variable is reported', () => {
    const changed = doc
      .replace(
        '| `log-level` | `error` \\| `warn` \\| `info` \\| `debug` | `info` |',
        '| `log-level` | `error` \\| `warn` \\| `info` \\| `debug` | `warn` |',
      )
      .replace('| `k8s-pod-metadata` | bool |', '| `k8s-pod-metadata` | string |')
      .replace('| `--log-format` | `IG_OTEL_PROFILES_LOG_FORMAT` |', '| `--format` | `LOG_FORMAT` |');
    assert.deepEqual(sectionKeyTableProblems(changed), [
      'section table: `log-level` default is "`warn`", the schema says "`info`"',
      'section table: `k8s-pod-metadata` type is "string", the schema says "bool"',
      'section table: `log-format` flag is "`--format`", the schema says "`--log-format`"',
      'section table: `log-format` variable is "`LOG_FORMAT`", the schema says "`IG_OTEL_PROFILES_LOG_FORMAT`"',
    ]);
  });

  it('a schema row the document lacks is reported, and a missing table too', () => {
    const level = SECTION_ROWS.find((r) => r.key === 'log-level')!;
    const added = [...SECTION_ROWS, { ...level, key: 'log-colour' as never }];
    assert.deepEqual(sectionKeyTableProblems(doc, added), ['section table: missing row `log-colour`']);
    const noTable = doc.replace(/<!-- section-keys -->[\s\S]*?<!-- \/section-keys -->/, '');
    assert.deepEqual(sectionKeyTableProblems(noTable), [
      'no key table for the section (<!-- section-keys --> … <!-- /section-keys -->)',
    ]);
  });

  it('renders the types, defaults, flags and variables from the rows', () => {
    const table = renderSectionKeyTable();
    assert.match(table, /^\| Key \| Type \| Default \| Flag \| Variable \| Meaning \|$/m);
    assert.match(
      table,
      /^\| `log-level` \| `error` \\\| `warn` \\\| `info` \\\| `debug` \| `info` \| `--log-level` \| `OTEL_LOG_LEVEL` \|/m,
    );
    assert.match(table, /^\| `k8s-pod-metadata` \| bool \| `false` \| `--k8s-pod-metadata` \| — \|/m);
    assert.match(
      table,
      /^\| `telemetry-address` \| `HOST:PORT` \| — \(off\) \| `--telemetry-address` \| `IG_OTEL_PROFILES_TELEMETRY_ADDRESS` \|/m,
    );
  });
});
