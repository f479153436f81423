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

  // Inside a string: jump to its closing quote with native searches (stack strings are long).
  let backslashAt = -1; // next backslash in the current chunk at or after the scan position
  const skipString = (bytes: Buffer, from: number, end: number): number => {
    let i = from;
    if (escaped) {
      escaped = false;
      i++;
    }
    for (;;) {
      if (i >= end) return end;
      const quote = bytes.indexOf(QUOTE, i);
      const stop = quote === -1 || quote >= end ? end : quote;
      if (backslashAt !== -1 && backslashAt < i) backslashAt = bytes.indexOf(BACKSLASH, i);
      if (backslashAt !== -1 && backslashAt < stop) {
        i = backslashAt + 2; // the escaped byte cannot end the string
        if (i > end) {
          escaped = true;
          return end;
        }
        continue;
      }
      if (stop === end) return end;
      inString = false;
      return quote + 1;
    }
  };

  return {
    push(bytes, start, end) {
      if (error !== undefined) return;
      backslashAt = bytes.indexOf(BACKSLASH, start);
      let i = start;
      if (depth >= 1 && !closed) elementStart = start;
      while (i < end) {
        if (inString) {
          i = skipString(bytes, i, end);
          continue;
        }
        const b = bytes[i] as number;
        if (closed) {
          if (!isJsonSpace(b)) return fail('unexpected text after the closing "]" of the array');
          i++;
          continue;
        }
        if (depth === 0) {
          // The first byte of the line (the framer checked it is `[`).
          depth = 1;
          elementStart = i + 1;
          i++;
          continue;
        }
        if (depth === 1) {
          if (b === COMMA) {
            takeElement(bytes, i);
            if (error !== undefined) return;
            elementStart = i + 1;
            i++;
            continue;
          }
          if (b === CLOSE_ARRAY) {
            if (elementBytes || elements > 0) takeElement(bytes, i);
            if (error !== undefined) return;
            depth = 0;
            closed = true;
            i++;
            continue;
          }
          if (b === CLOSE_OBJECT) return fail('"}" closes the array');
        }
        if (!isJsonSpace(b)) elementBytes = true;
        if (b === QUOTE) inString = true;
        else if (b === OPEN_ARRAY || b === OPEN_OBJECT) depth++;
        else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--;
        i++;
      }
      if (depth >= 1 && !closed && elementStart < end) parts.push(bytes.subarray(elementStart, end));
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
