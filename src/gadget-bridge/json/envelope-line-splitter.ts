/**
 * Splits a `logs` envelope line (`{"type":"gadget-data",…,"data":[…]}`: one fetch, megabytes)
 * into the envelope's own members and the elements of its `data` array while the bytes arrive,
 * as array-line-splitter.ts does for `-o json` lines. Node builds a string of a megabyte or more
 * on a slow path (≈3 ms per MB measured on Node 20, several times the JSON.parse of it), so such a
 * line is never made one string.
 *
 * The members before `"data":[` are collected as text and must form a valid object prefix (checked
 * by parsing them with `"data":null}` appended); otherwise (a `"data":[` inside a string or a
 * nested object), and for any object line without a `data` array (`gadget-data-empty`, one element
 * per line, other envelope types), the line is collected whole and parsed as one text.
 */
import { StringDecoder } from 'node:string_decoder';
import { createArrayLineSplitter } from './array-line-splitter.js';
import type { ArrayLineSink, ArrayLineSplitter } from './array-line-splitter.js';
import { decodeInSlices } from './utf8-slices.js';

/** How an object line ended. */
export type EnvelopeLineEnd =
  /** Split: the line with `"data":[]` in place of the array, whose elements went to the sink. */
  | { readonly kind: 'envelope'; readonly members: string }
  /** Collected whole (no trailing CR). */
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'error'; readonly reason: string };

export interface EnvelopeLineSplitter {
  /** Feeds bytes [start, end) of the line (no newline); the first byte ever fed must be `{`. */
  push(bytes: Buffer, start: number, end: number): void;
  /** The line ended (`atEnd`: end of input without a newline). */
  end(atEnd: boolean): EnvelopeLineEnd;
}

/** IG writes `data` after a few short members; past this many characters the line is taken whole. */
const MAX_MEMBERS_BEFORE_DATA = 64 * 1024;
const DATA_ARRAY = /"data"[ \t]*:[ \t]*\[/;

/**
 * True when `"data"` after `prefix` is a member of the line's object: `prefix` + `"data":null}`
 * is a JSON object, and the quote is not escaped (after a backslash the quote is inside a key or
 * a string, which the appended text would close and still parse).
 */
function isObjectPrefix(prefix: string): boolean {
  if (prefix.endsWith('\\')) return false;
  try {
    const v: unknown = JSON.parse(`${prefix}"data":null}`);
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

export function createEnvelopeLineSplitter(sink: ArrayLineSink): EnvelopeLineSplitter {
  const decoder = new StringDecoder('utf8');
  let head = ''; // text so far, until `"data":[` is found
  let prefix = ''; // the members before `"data"`
  let array: ArrayLineSplitter | undefined;
  let whole: string[] | undefined; // pieces of a line taken whole

  const take = (piece: string): void => {
    if (array) return array.pushText(piece);
    if (whole) {
      whole.push(piece);
      return;
    }
    head += piece;
    const m = DATA_ARRAY.exec(head);
    if (m) {
      const members = head.slice(0, m.index);
      if (isObjectPrefix(members)) {
        prefix = members;
        array = createArrayLineSplitter(sink, { collectTrailer: true });
        array.pushText(head.slice(m.index + m[0].length - 1)); // from the `[`
        head = '';
        return;
      }
    } else if (head.length <= MAX_MEMBERS_BEFORE_DATA) {
      return;
    }
    whole = [head];
    head = '';
  };

  return {
    push(bytes, start, end) {
      decodeInSlices(decoder, bytes, start, end, take);
    },
    end(atEnd) {
      const rest = decoder.end();
      if (rest.length > 0) take(rest);
      if (!array) {
        const text = whole ? whole.join('') : head;
        return { kind: 'text', text: text.endsWith('\r') ? text.slice(0, -1) : text };
      }
      const result = array.end(atEnd);
      if (result.kind === 'error') return result;
      if (result.kind === 'pretty-open') {
        return {
          kind: 'error',
          reason: atEnd
            ? 'input ended in the middle of a value (truncated last line?): the "data" array is not closed'
            : 'the line ends inside the "data" array (no closing "]")',
        };
      }
      return { kind: 'envelope', members: `${prefix}"data":[]${result.trailer}` };
    },
  };
}
