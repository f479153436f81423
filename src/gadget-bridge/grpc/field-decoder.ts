import type { GadgetRow } from '../../rows/gadget-row.js';
import { fieldReader, SlotCursor } from './field-readers.js';
import type { DataElement, DataSource, Field } from './gadget-messages.js';
import { DATASOURCE_FLAG_BIG_ENDIAN, FIELD_FLAG_EMPTY, FIELD_FLAG_UNREFERENCED } from './gadget-messages.js';
import { packElement } from './packed-data-element.js';
import type { RowNode } from './row-builder.js';
import { compileRowBuilder } from './row-builder.js';
import { TextBudget } from './text-cache.js';

/**
 * Turns IG's binary, schema-described rows (`DataElement.payload[]` slots laid out by the
 * datasource's `fields`) into the same nested objects IG's JSON formatter prints:
 *
 * - dotted `fullName`s become nested objects; keys at every level sorted by byte order;
 * - every field is shown (hidden ones too, as `-o json` does), except Unreferenced fields,
 *   fields annotated `json.skip: "true"` (and their sub-fields) and Empty fields (pure parents);
 * - a field with sub-fields is an object (its own bytes, e.g. a whole eBPF struct, are not shown);
 * - integers are numbers, 64-bit ones beyond ±(2^53-1) bigint (as the JSON path parses them);
 *   Float32/64 numbers; Bool true when any byte is non-zero (like IG's formatter);
 *   String = all bytes as UTF-8; CString and unknown kinds = UTF-8 up to the first NUL;
 * - Bytes: lowercase hex. IG's JSON prints Bytes through its C-string fallback, which loses data;
 *   hex is lossless and is what `ProfileSpec.traceIdField`/`spanIdField` expect for W3C ids;
 * - arrays (`kind | 0x10000000`): JSON arrays of the packed base-kind elements (Bool and numeric
 *   kinds); arrays of other kinds are shown like Bytes.
 *
 * Short or missing slots decode to the kind's zero value ('' / 0 / false), never throw: IG's
 * accessors do the same, and one odd field must not cost the whole emission.
 */

/** Decodes one element of a datasource into a row. */
export type RowDecoder = (element: DataElement) => GadgetRow;

/** Byte-order comparison as IG sorts field names (ASCII field names: code units = bytes). */
function byteOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface TreeNode {
  field?: Field;
  readonly children: Map<string, TreeNode>;
}

function isSkipped(field: Field): boolean {
  return (field.flags & FIELD_FLAG_UNREFERENCED) !== 0 || field.annotations['json.skip'] === 'true';
}

function pathOf(field: Field): string[] {
  return (field.fullName || field.name).split('.');
}

/** Whether the field at `path` is one of `names` (dotted) or lies under one of them. */
function isAtOrUnder(path: readonly string[], names: ReadonlySet<string>): boolean {
  for (let i = 1; i <= path.length; i++) if (names.has(path.slice(0, i).join('.'))) return true;
  return false;
}

/**
 * The fields as IG's JSON formatter would print them, as a sorted tree; with `fields`, only those
 * and what lies under them (a named struct brings all of its members; parents still nest them).
 */
function buildTree(ds: DataSource, fields?: ReadonlySet<string>): TreeNode {
  const skipped = new Set(ds.fields.filter(isSkipped).map((f) => f.fullName || f.name));
  const root: TreeNode = { children: new Map() };
  for (const field of ds.fields) {
    const path = pathOf(field);
    if (isAtOrUnder(path, skipped) || (fields !== undefined && !isAtOrUnder(path, fields))) continue;
    let node = root;
    for (const part of path) {
      let child = node.children.get(part);
      if (!child) {
        child = { children: new Map() };
        node.children.set(part, child);
      }
      node = child;
    }
    node.field = field;
  }
  return root;
}

function compileNodes(tree: TreeNode, bigEndian: boolean, texts: TextBudget): RowNode[] {
  const out: RowNode[] = [];
  for (const key of [...tree.children.keys()].sort(byteOrder)) {
    const child = tree.children.get(key)!;
    if (child.children.size > 0) {
      const children = compileNodes(child, bigEndian, texts);
      if (children.length > 0) out.push({ key, children });
    } else if (child.field && (child.field.flags & FIELD_FLAG_EMPTY) === 0) {
      out.push({ key, read: fieldReader(child.field, bigEndian, texts) });
    }
  }
  return out;
}

/**
 * Compiles a datasource's field layout into a row decoder. Payload indices, offsets and sizes
 * come from the descriptors only (IG's operators place their fields in version-dependent slots).
 *
 * With `fields` (dotted names, see buildTree) the decoder is a projection: rows hold only those
 * fields, each exactly as the full row has it. The exporter reads a fixed set of fields
 * (`pipelineFieldsRead`), and decoding the rest would cost about as much again.
 */
export function compileRowDecoder(ds: DataSource, fields?: ReadonlySet<string>): RowDecoder {
  const bigEndian = (ds.flags & DATASOURCE_FLAG_BIG_ENDIAN) !== 0;
  // One memory budget for the remembered texts of all of this decoder's fields.
  const build = compileRowBuilder(compileNodes(buildTree(ds, fields), bigEndian, new TextBudget()));
  let slotCount = 0;
  for (const f of ds.fields) slotCount = Math.max(slotCount, f.payloadIndex + 1);
  // Decoding is synchronous, so one cursor serves every element.
  const cursor = new SlotCursor(slotCount);
  return (element) => {
    cursor.moveTo(packElement(element));
    return build(cursor);
  };
}

/** The dotted names of the fields a decoded row contains (for messages and tests). */
export function decodedFieldNames(ds: DataSource): string[] {
  const names: string[] = [];
  const walk = (tree: TreeNode, prefix: string): void => {
    for (const [key, child] of tree.children) {
      const name = prefix + key;
      if (child.children.size > 0) walk(child, `${name}.`);
      else if (child.field && (child.field.flags & FIELD_FLAG_EMPTY) === 0) names.push(name);
    }
  };
  walk(buildTree(ds), '');
  return names.sort(byteOrder);
}
