import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SlotCursor } from '../../../src/gadget-bridge/grpc/field-readers.js';
import type { RowNode } from '../../../src/gadget-bridge/grpc/row-builder.js';
import { buildGenerically, compileRowBuilder } from '../../../src/gadget-bridge/grpc/row-builder.js';
import { runWithoutCodeGeneration } from '../../support/without-code-generation.js';
import { getField, rowFields } from '../../../src/rows/gadget-row.js';

const cursor = new SlotCursor(0);
const leaf = (key: string, value: unknown): RowNode => ({ key, read: () => value as never });

describe('row builder', () => {
  it('the generated builder gives the same values, nesting and key order as the generic one', () => {
    const nodes: RowNode[] = [
      leaf('a', 1),
      {
        key: 'k8s',
        children: [
          leaf('node', 'n'),
          { key: 'owner', children: [leaf('kind', 'Deployment'), leaf('name', 'web')] },
        ],
      },
      leaf('10', 'integer-like keys enumerate first either way'),
      leaf('quo"te\\and\u2028line', 'odd names are quoted, not code'),
      leaf('big', 18446744073709551615n),
      leaf('list', [1, 2]),
      leaf("x'); throw new Error('injected'); ('", true),
    ];
    const generated = compileRowBuilder(nodes)(cursor);
    const generic = buildGenerically(nodes, cursor);
    assert.deepStrictEqual(generated, generic);
    assert.deepEqual(Object.keys(generated), Object.keys(generic));
    assert.deepEqual(Object.keys(getField(generated, 'k8s') as object), ['node', 'owner']);
    assert.equal(rowFields(generated)["x'); throw new Error('injected'); ('"], true);
  });

  it('every row is a fresh object (no sharing between rows)', () => {
    let n = 0;
    const build = compileRowBuilder([{ key: 'p', children: [{ key: 'v', read: () => ++n }] }]);
    const a = build(cursor);
    const b = build(cursor);
    assert.notEqual(a, b);
    assert.notEqual(getField(a, 'p'), getField(b, 'p'));
    assert.deepEqual([a, b], [{ p: { v: 1 } }, { p: { v: 2 } }]);
  });

  it('a __proto__ field behaves as in the generic builder (prototype setter in both)', () => {
    const nodes: RowNode[] = [
      { key: 'o', children: [leaf('__proto__', 5), leaf('b', 2)] },
      { key: '__proto__', children: [leaf('polluted', true)] },
    ];
    const generated = compileRowBuilder(nodes)(cursor);
    const generic = buildGenerically(nodes, cursor);
    assert.deepEqual({ ...generated }, { ...generic }); // own properties; the prototypes are two equal objects
    for (const row of [generated, generic]) {
      assert.deepEqual(Object.keys(row), ['o']);
      assert.equal((Object.getPrototypeOf(row) as Record<string, unknown>).polluted, true);
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined, 'only the row, never Object.prototype');
  });

  it('falls back to the generic builder past the generated-size limit', () => {
    const nodes = Array.from({ length: 2500 }, (_, i) => leaf(`f${i}`, i));
    assert.deepStrictEqual(compileRowBuilder(nodes)(cursor), buildGenerically(nodes, cursor));
  });

  it('builds the same rows where code generation is disallowed (generic builder)', () => {
    const module = new URL('../../../src/gadget-bridge/grpc/row-builder.ts', import.meta.url).href;
    const script = `const { compileRowBuilder } = await import(${JSON.stringify(module)});
      const build = compileRowBuilder([{ key: 'a', read: () => 1 }, { key: 'k8s', children: [{ key: 'node', read: () => 'n' }] }]);
      console.log(JSON.stringify(build(undefined)));`;
    const run = runWithoutCodeGeneration(script);
    assert.equal(run.status, 0, run.stderr);
    assert.equal(run.stdout, '{"a":1,"k8s":{"node":"n"}}');
  });
});
