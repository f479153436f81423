/**
 * Splits one line that holds a JSON array (`ig run … -o json`: one fetch per line, easily
 * megabytes) into the texts of its elements while the bytes arrive, so the whole line never
 * exists as one Buffer or string: each element is decoded and parsed on its own and becomes
 * garbage young. Only structure is checked here (strings, nesting, separators, what follows the
 * closing bracket); each element's own syntax is left to the parser that gets its text.
 */

const QUOTE = 34; // "
const BACKSLASH = 92; // \
const COMMA = 44;
const OPEN_ARRAY = 91; // [
const CLOSE_ARRAY = 93; // ]
const OPEN_OBJECT = 123; // {
const CLOSE_OBJECT = 125; // }

const isJsonSpace = (b: number): boolean => b === 32 || b === 9 || b === 13 || b === 10;

export interface ArrayLineSink {
  /** A complete element's text (may carry surrounding whitespace). */
  element(text: string): void;
}

/** How the line ended. */
export type ArrayLineEnd =
  | { readonly kind: 'array' }
  /** Only `[` and whitespace: the opener of a pretty-printed array. */
  | { readonly kind: 'pretty-open' }
  | { readonly kind: 'error'; readonly reason: string };

export interface ArrayLineSplitter {
  /** Feeds bytes [start, end) of the line (no newline); the first byte ever fed must be `[`. */
  push(bytes: Buffer, start: number, end: number): void;
  /** The line ended (`atEnd`: end of input without a newline). */
  end(atEnd: boolean): ArrayLineEnd;
}

export function createArrayLineSplitter(sink: ArrayLineSink): ArrayLineSplitter {
  let depth = 0; // 0 before `[` and after the matching `]`
  let inString = false;
  let escaped = false; // the previous byte was a backslash inside a string
  let elementBytes = false; // the current element has a non-space byte
  let elements = 0;
  let closed = false;
  let error: string | undefined;
  let parts: Buffer[] = []; // bytes of the current element from earlier chunks
  let elementStart = -1; // offset of the current element in the current chunk

  const fail = (reason: string): void => {
    error ??= reason;
    parts = [];
  };
  const takeElement = (bytes: Buffer, end: number): void => {
    if (!elementBytes) {
      fail(`element ${elements + 1} of the array is empty`);
      return;
    }
    let text: string;
    if (parts.length === 0) text = bytes.toString('utf8', elementStart, end);
    else {
      parts.push(bytes.subarray(elementStart, end));
      text = Buffer.concat(parts).toString('utf8');
      parts = [];
    }
    elements++;
    elementBytes = false;
    sink.element(text);
  };

  return {
    push(bytes, start, end) {
      if (error !== undefined) return;
      // The hot loop keeps its state in locals; most bytes are inside strings or inside an element.
      let d = depth;
      let str = inString;
      let i = start;
      if (escaped) {
        escaped = false;
        i++; // the escaped byte cannot end the string
      }
      if (d >= 1 && !closed) elementStart = start;
      // Next backslash at or after i (-1: none in this chunk); strings are skipped natively.
      let backslashAt = bytes.indexOf(BACKSLASH, i);
      while (i < end) {
        if (str) {
          const quote = bytes.indexOf(QUOTE, i);
          const stop = quote === -1 || quote > end ? end : quote;
          if (backslashAt !== -1 && backslashAt < i) backslashAt = bytes.indexOf(BACKSLASH, i);
          if (backslashAt !== -1 && backslashAt < stop) {
            i = backslashAt + 2; // the escaped byte cannot end the string
            if (i > end) escaped = true;
            continue;
          }
          if (stop === end) break;
          str = false;
          i = quote + 1;
          continue;
        }
        const b = bytes[i] as number;
        if (d >= 2) {
          if (b === QUOTE) str = true;
          else if (b === OPEN_OBJECT || b === OPEN_ARRAY) d++;
          else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) d--;
          i++;
          continue;
        }
        i++;
        if (closed) {
          if (!isJsonSpace(b)) return fail('unexpected text after the closing "]" of the array');
          continue;
        }
        if (d === 0) {
          // The first byte of the line (the framer checked it is `[`).
          d = 1;
          elementStart = i;
          continue;
        }
        // Depth 1: between elements, or in a scalar element.
        if (b === COMMA || b === CLOSE_ARRAY) {
          if (b === COMMA || elementBytes || elements > 0) takeElement(bytes, i - 1);
          if (error !== undefined) return;
          elementStart = i;
          if (b === CLOSE_ARRAY) {
            d = 0;
            closed = true;
          }
          continue;
        }
        if (b === CLOSE_OBJECT) return fail('"}" closes the array');
        if (!isJsonSpace(b)) elementBytes = true;
        if (b === QUOTE) str = true;
        else if (b === OPEN_OBJECT || b === OPEN_ARRAY) d++;
      }
      depth = d;
      inString = str;
      if (d >= 1 && !closed && elementStart < end) parts.push(bytes.subarray(elementStart, end));
    },
    end(atEnd) {
      if (error !== undefined) return { kind: 'error', reason: error };
      if (closed) return { kind: 'array' };
      if (depth === 1 && elements === 0 && !elementBytes && !inString) return { kind: 'pretty-open' };
      parts = [];
      return {
        kind: 'error',
        reason: atEnd
          ? 'input ended in the middle of a value (truncated last line?): the array is not closed'
          : 'the line ends inside the array (no closing "]")',
      };
    },
  };
}
