import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { keyTableProblems, renderKeyTable, renderKeyTables } from '../../src/config/exporter-key-table.js';
import { EXPORTER_ROWS } from '../../src/config/exporter-schema.js';

const DOC_PATH = new URL('../../docs/configuration.md', import.meta.url);
const doc = readFileSync(DOC_PATH, 'utf8');

describe('the exporter key tables of docs/configuration.md', () => {
  it('match the schema row for row (run `npm run docs:config` after changing a key)', () => {
    assert.deepEqual(keyTableProblems(doc), []);
    assert.equal(renderKeyTables(doc), doc, 'the generated tables are the ones in the document');
  });

  it('document every key of the schema exactly once', () => {
    const documented = [...doc.matchAll(/^\| `([a-z_.]+)` \|/gm)].map((m) => m[1]);
    for (const row of EXPORTER_ROWS) {
      assert.equal(documented.filter((k) => k === row.key).length, 1, row.key);
    }
  });

  it('a missing row is reported', () => {
    const without = doc.replace(/^\| `retry\.jitter` \|.*\n/m, '');
    assert.notEqual(without, doc);
    assert.deepEqual(keyTableProblems(without), ['retry table: missing row `retry.jitter`']);
  });

  it('an extra row is reported', () => {
    const extra = doc.replace(
      /^(\| `retry\.enabled` \|.*\n)/m,
      '$1| `retry.backoff` | duration | `1s` | Made up. |\n',
    );
    assert.deepEqual(keyTableProblems(extra), [
      'retry table: extra row `retry.backoff` (no such key in the schema)',
    ]);
  });

  it('a different default or type is reported', () => {
    const changed = doc
      .replace(
        '| `retry.initial_interval` | duration > 0 | `5s` |',
        '| `retry.initial_interval` | duration > 0 | `1s` |',
      )
      .replace('| `queue.max_requests` | integer ≥ 1 |', '| `queue.max_requests` | size |');
    assert.deepEqual(keyTableProblems(changed), [
      'retry table: `retry.initial_interval` default is "`1s`", the schema says "`5s`"',
      'queue table: `queue.max_requests` type is "size", the schema says "integer ≥ 1"',
    ]);
  });

  it('a schema row the document lacks is reported, and a missing table too', () => {
    const jitter = EXPORTER_ROWS.find((r) => r.key === 'retry.jitter')!;
    const added = [...EXPORTER_ROWS, { ...jitter, doc: { group: 'pprof' as const, meaning: 'Twice.' } }];
    assert.deepEqual(keyTableProblems(doc, added), ['pprof table: missing row `retry.jitter`']);
    const noTable = doc.replace(/<!-- exporter-keys:samples -->[\s\S]*?<!-- \/exporter-keys -->/, '');
    assert.deepEqual(keyTableProblems(noTable), [
      'no key table for samples (<!-- exporter-keys:samples --> … <!-- /exporter-keys -->)',
    ]);
  });

  it('renders defaults from the schema values (durations, sizes, maps) and the Kinds column for OTLP keys', () => {
    const otlp = renderKeyTable('otlp');
    assert.match(otlp, /^\| Key \| Type \| Default \| Kinds \| Meaning \|$/m);
    assert.match(otlp, /^\| `headers` \| map of string \| `\{\}` \| otlp-grpc, otlp-http \|/m);
    assert.match(otlp, /^\| `protocol` \| `protobuf` \\\| `json` \| `protobuf` \| otlp-http \|/m);
    const batch = renderKeyTable('batch');
    assert.match(batch, /^\| Key \| Type \| Default \| Meaning \|$/m);
    assert.match(batch, /^\| `batch\.max_request_size` \| size, ≤ `64MiB` \| `4MiB` \|/m);
    assert.match(renderKeyTable('retry'), /^\| `retry\.max_elapsed_time` \| duration \| `5m` \|/m);
  });
});
