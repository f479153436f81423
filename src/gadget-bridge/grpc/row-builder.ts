import type { FieldRecord, FieldValue, GadgetRow } from '../../rows/gadget-row.js';
import { gadgetRow } from '../../rows/gadget-row.js';
import type { FieldReader, SlotCursor } from './field-readers.js';

/**
 * Builds a row object from a datasource's compiled field tree.
 *
 * Assembling objects with computed keys (`row[key] = value` over a list of ~50 fields) hits
 * V8's megamorphic keyed-store path and costs ~4 µs per profile_cpu row, far more than
 * decoding its values. An object literal with the fields in place costs ~0.1 µs, and calling
 * each reader from its own call site lets V8 inline it. So the builder is generated once per
 * datasource as the source of one object-literal expression.
 *
 * Generated source contains only fixed text, reader indices and property names written with
 * JSON.stringify (a JSON string is a valid JS string literal, so no name can break out of it).
 * A `"__proto__": v` literal entry goes through the prototype setter exactly as the generic
 * `row["__proto__"] = v` does, so both builders give the same rows for every name. A tree too
 * large for one expression, or a process where code generation from strings is disallowed, uses
 * the generic builder.
 */

export interface RowNode {
  readonly key: string;
  readonly read?: FieldReader;
  readonly children?: readonly RowNode[];
}

export type RowBuilder = (cursor: SlotCursor) => GadgetRow;

/** Fields beyond this build generically: keeps generated functions within what V8 optimises. */
const MAX_GENERATED_FIELDS = 2000;

/** The generic builder: one keyed store per field (same values, same key order). */
export function buildGenerically(nodes: readonly RowNode[], cursor: SlotCursor): GadgetRow {
  return gadgetRow(fieldsOf(nodes, cursor));
}

function fieldsOf(nodes: readonly RowNode[], cursor: SlotCursor): FieldRecord {
  const fields: Record<string, FieldValue> = {};
  for (const node of nodes) {
    fields[node.key] = node.children ? fieldsOf(node.children, cursor) : node.read!(cursor);
  }
  return fields;
}

function literalSource(nodes: readonly RowNode[], readers: FieldReader[]): string | undefined {
  const parts: string[] = [];
  for (const node of nodes) {
    let value: string | undefined;
    if (node.children) value = literalSource(node.children, readers);
    else {
      value = `r${readers.length}(c)`;
      readers.push(node.read!);
    }
    if (value === undefined || readers.length > MAX_GENERATED_FIELDS) return undefined;
    parts.push(`${JSON.stringify(node.key)}: ${value}`);
  }
  return `{${parts.join(', ')}}`;
}

/** Compiles the builder for `nodes` (the generated one when possible). */
export function compileRowBuilder(nodes: readonly RowNode[]): RowBuilder {
  const readers: FieldReader[] = [];
  const literal = literalSource(nodes, readers);
  if (literal === undefined) return (cursor) => buildGenerically(nodes, cursor);
  const bindings = readers.map((_, i) => `const r${i} = readers[${i}];`).join('\n');
  let factory: (readers: readonly FieldReader[]) => RowBuilder;
  try {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- see the module comment: names are JSON-quoted, nothing else is input
    factory = new Function(
      'readers',
      `'use strict';\n${bindings}\nreturn (c) => (${literal});`,
    ) as typeof factory;
  } catch {
    // Code generation disallowed (--disallow-code-generation-from-strings): the same rows, generically.
    return (cursor) => buildGenerically(nodes, cursor);
  }
  return factory(readers);
}
