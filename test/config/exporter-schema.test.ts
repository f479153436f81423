import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExporterKind } from '../../src/config/exporter-config.js';
import { defaultOf, EXPORTER_KINDS, EXPORTER_ROWS, readField } from '../../src/config/exporter-schema.js';
import { defaultLayer } from '../../src/config/exporter-settings.js';
import { landSettings } from '../../src/config/resolve-exporter.js';
import { DEFAULT_RETRY_POLICY } from '../../src/util/backoff.js';

const contexts = EXPORTER_KINDS.flatMap((kind: ExporterKind) =>
  [false, true].flatMap((k8sPodMetadata) =>
    [false, true].map((envBuilt) => ({ kind, k8sPodMetadata, envBuilt })),
  ),
);

describe('the exporter schema', () => {
  it('declares each key and each field once, and aliases name no other key', () => {
    const keys = EXPORTER_ROWS.map((r) => r.key);
    const fields = EXPORTER_ROWS.map((r) => r.field);
    assert.equal(new Set(keys).size, keys.length);
    assert.equal(new Set(fields).size, fields.length);
    for (const row of EXPORTER_ROWS) {
      if (row.alias) assert.ok(!keys.includes(row.alias as never), row.alias);
    }
  });

  it('every default is a value of its type, and prints to text that parses back to it', () => {
    for (const ctx of contexts) {
      for (const row of EXPORTER_ROWS) {
        const value = defaultOf(row, ctx);
        if (value === undefined) continue;
        assert.ok(row.type.is(value), `${row.key} default in ${JSON.stringify(ctx)}`);
        const parsed = row.type.parse(row.type.print(value));
        assert.deepEqual(parsed, { ok: true, value }, row.key);
      }
    }
  });

  it('the defaults land in every field an exporter needs, read back by the same rows', () => {
    for (const ctx of contexts) {
      const config = landSettings('x', defaultLayer(ctx));
      assert.equal(config.exporter, ctx.kind);
      for (const row of EXPORTER_ROWS) {
        assert.deepEqual(readField(config, row.field), defaultOf(row, ctx), `${row.key} in ${ctx.kind}`);
      }
    }
  });

  it('takes the retry defaults from the one RetryPolicy default', () => {
    const config = landSettings(
      'x',
      defaultLayer({ kind: 'otlp-grpc', k8sPodMetadata: false, envBuilt: false }),
    );
    assert.deepEqual(config.retry, DEFAULT_RETRY_POLICY);
  });

  it('a value of the wrong type cannot land silently', () => {
    const layer = defaultLayer({ kind: 'file', k8sPodMetadata: false, envBuilt: false });
    layer.set('batch.interval', { value: '5s', source: { layer: 'file', label: 'config.yaml:3:7' } });
    assert.throws(() => landSettings('x', layer), /batch\.interval from config\.yaml:3:7 is not a duration/);
  });
});
