/**
 * Splits one line that holds a JSON array (`ig run … -o json`: one fetch per line, easily
 * megabytes) into the texts of its elements while the bytes arrive, so the whole line never
 * exists as one Buffer or string: each element is decoded and parsed on its own and becomes
 * garbage young. Only structure is checked here (strings, nesting, separators, what follows the
 * closing bracket); each element's own syntax is left to the parser that gets its text.
 *
 * Each chunk is decoded once, in slices (utf8-slices.ts; a StringDecoder keeps UTF-8 sequences
 * split across chunks whole) and scanned as a string: String.prototype.indexOf jumps over string
 * contents far more cheaply per call than Buffer#indexOf, which measured 2x slower on IG rows.
 *
 * The scan visits every character outside strings anyway, so it also notes where each element
 * has an integer of 16 digits or more (one that may exceed 2^53): the element's exact parse then
 * needs no search of its own, and an element without one is exact under plain JSON.parse. It also
 * notes the long strings that are member values (stacks, container ids): they repeat row after
 * row, and the parse takes each from a cache by its raw text instead of decoding it again
 * (json-element-parser.ts).
 */
import { StringDecoder } from 'node:string_decoder';
import { decodeInSlices } from './utf8-slices.js';

const QUOTE = 34; // "
const COMMA = 44;
const OPEN_ARRAY = 91; // [
const CLOSE_ARRAY = 93; // ]
const OPEN_OBJECT = 123; // {
const CLOSE_OBJECT = 125; // }
const MINUS = 45;
const PLUS = 43;
const DOT = 46;
const DIGIT_0 = 48;
const DIGIT_9 = 57;
const LOWER_E = 101;
const UPPER_E = 69;
const COLON = 58;
const LOWER_U = 117;
const DIGIT_1 = 49;
/** The fewest digits of an integer that can exceed 2^53 − 1. */
const BIG_INTEGER_DIGITS = 16;
/**
 * Member-value strings at least this long are noted (their contents' offsets). Shorter ones cost
 * JSON.parse less than a cache lookup; IG's container ids (64 characters) and stacks are longer.
 */
export const LONG_STRING_CHARS = 64;

const isJsonSpace = (c: number): boolean => c === 32 || c === 9 || c === 13 || c === 10;

/**
 * Whether the `\u` escape whose hex digits start at `at` is `\u0000`–`\u001f` (a control
 * character); digits cut off by the end of `text` count as one.
 */
function isControlEscape(text: string, at: number): boolean {
  if (at + 3 > text.length) return true;
  const third = text.charCodeAt(at + 2);
  return (
    text.charCodeAt(at) === DIGIT_0 &&
    text.charCodeAt(at + 1) === DIGIT_0 &&
    (third === DIGIT_0 || third === DIGIT_1)
  );
}

/** What the scan noted about one element's text (offsets are into that text). */
export interface ElementSpans {
  /**
   * Start and end offsets, pairwise, of its integer tokens of 16+ digits outside strings (sign
   * included); undefined when it has none.
   */
  readonly bigIntegers: readonly number[] | undefined;
  /**
   * Start and end offsets, pairwise, of the contents (between the quotes, escapes as written) of
   * its strings of LONG_STRING_CHARS or more that are object member values; undefined: none.
   */
  readonly longStrings: readonly number[] | undefined;
  /**
   * One of its strings has a `\u0000`–`\u001f` escape (or may have one: an escape cut by a chunk
   * boundary counts). Such a string could pass for a parser's marker (lossless-json.ts).
   */
  readonly controlEscape: boolean;
}

export interface ArrayLineSink {
  /** A complete element's text (may carry surrounding whitespace) and what the scan noted in it. */
  element(text: string, spans: ElementSpans): void;
}

/** How the line ended. */
export type ArrayLineEnd =
  /** `trailer`: what followed the closing `]` when collected (see `collectTrailer`), else ''. */
  | { readonly kind: 'array'; readonly trailer: string }
  /** Only `[` and whitespace: the opener of a pretty-printed array. */
  | { readonly kind: 'pretty-open' }
  | { readonly kind: 'error'; readonly reason: string };

export interface ArrayLineSplitter {
  /** Feeds bytes [start, end) of the line (no newline); the first byte ever fed must be `[`. */
  push(bytes: Buffer, start: number, end: number): void;
  /** Feeds already decoded text instead (never mixed with `push` on one line). */
  pushText(text: string): void;
  /** The line ended (`atEnd`: end of input without a newline). */
  end(atEnd: boolean): ArrayLineEnd;
}

export interface ArrayLineOptions {
  /**
   * Collect the text after the closing `]` instead of allowing only whitespace there: the array
   * is a member of an enclosing object (a `logs` envelope's `data`) whose rest follows it.
   */
  readonly collectTrailer?: boolean;
}

/** A trailer is the rest of an envelope (`}` or a few members); more than this is not IG output. */
const MAX_TRAILER_CHARS = 64 * 1024;

export function createArrayLineSplitter(
  sink: ArrayLineSink,
  options: ArrayLineOptions = {},
): ArrayLineSplitter {
  const collectTrailer = options.collectTrailer === true;
  const decoder = new StringDecoder('utf8');
  let depth = 0; // 0 before `[` and after the matching `]`
  let inString = false;
  let escaped = false; // the previous character was a backslash inside a string
  let elementChars = false; // the current element has a non-space character
  let elements = 0;
  let closed = false;
  let error: string | undefined;
  let pending = ''; // text of the current element from earlier chunks
  // Number tokens outside strings, in line coordinates (UTF-16 offsets from the line's start).
  let scanned = 0; // offset of the text being scanned
  let elementOffset = 0; // offset of the current element's first character
  let inNumber = false;
  let numberStart = 0;
  let numberDigits = 0;
  let numberIsInteger = true;
  let bigIntegers: number[] | undefined; // of the current element, element-relative
  let longStrings: number[] | undefined; // of the current element, element-relative
  let controlEscape = false; // of the current element
  let stringStart = -1; // line offset of the open string's contents when it is a member value
  let previous = 0; // the last character outside strings that is not whitespace
  let trailer = ''; // with collectTrailer: the text after the closing `]`

  const fail = (reason: string): void => {
    error ??= reason;
    pending = '';
  };
  /** Completes the element that ends before `end` in `text`; false when it was empty. */
  const takeElement = (text: string, start: number, end: number): boolean => {
    if (!elementChars) {
      fail(`element ${elements + 1} of the array is empty`);
      return false;
    }
    const element = pending.length === 0 ? text.slice(start, end) : pending + text.slice(start, end);
    pending = '';
    elements++;
    elementChars = false;
    const spans: ElementSpans = { bigIntegers, longStrings, controlEscape };
    bigIntegers = undefined;
    longStrings = undefined;
    controlEscape = false;
    sink.element(element, spans);
    return true;
  };

  const addTrailer = (text: string): void => {
    trailer += text;
    if (trailer.length > MAX_TRAILER_CHARS)
      fail(`more than ${MAX_TRAILER_CHARS} characters follow the array's closing "]"`);
  };
  /** Scans decoded text; the hot loop keeps its structural state in locals. */
  const scan = (text: string): void => {
    if (error !== undefined) return; // a slice after the one that failed
    if (closed && collectTrailer) return addTrailer(text);
    const n = text.length;
    const base = scanned;
    scanned += n;
    let d = depth;
    let str = inString;
    let i = 0;
    let elementStart = 0;
    if (escaped && n > 0) {
      escaped = false;
      // The escape was cut by the chunk boundary: if it is a \u escape, count it as a control one.
      if (text.charCodeAt(0) === LOWER_U) controlEscape = true;
      i = 1; // the escaped character cannot end the string
    }
    // Next backslash at or after i (-1: none left); inside strings only `"` and `\` matter.
    let backslashAt = text.indexOf('\\', i);
    while (i < n) {
      if (str) {
        const quote = text.indexOf('"', i);
        const stop = quote === -1 ? n : quote;
        if (backslashAt !== -1 && backslashAt < i) backslashAt = text.indexOf('\\', i);
        if (backslashAt !== -1 && backslashAt < stop) {
          if (text.charCodeAt(backslashAt + 1) === LOWER_U && isControlEscape(text, backslashAt + 2))
            controlEscape = true;
          i = backslashAt + 2;
          if (i > n) escaped = true;
          continue;
        }
        if (quote === -1) break;
        str = false;
        if (stringStart !== -1 && base + quote - stringStart >= LONG_STRING_CHARS) {
          (longStrings ??= []).push(stringStart - elementOffset, base + quote - elementOffset);
        }
        i = quote + 1;
        continue;
      }
      const c = text.charCodeAt(i);
      // Number tokens (outside strings): digits, sign, fraction and exponent characters.
      if (inNumber) {
        if (c >= DIGIT_0 && c <= DIGIT_9) numberDigits++;
        else if (c === DOT || c === LOWER_E || c === UPPER_E || c === PLUS || c === MINUS)
          numberIsInteger = false;
        else {
          inNumber = false;
          if (numberIsInteger && numberDigits >= BIG_INTEGER_DIGITS) {
            (bigIntegers ??= []).push(numberStart - elementOffset, base + i - elementOffset);
          }
        }
      } else if ((c >= DIGIT_0 && c <= DIGIT_9) || c === MINUS) {
        inNumber = true;
        numberStart = base + i;
        numberDigits = c === MINUS ? 0 : 1;
        numberIsInteger = true;
      }
      if (d >= 2) {
        if (c === QUOTE) {
          str = true;
          // After `:` a string is a member value (never a key); its contents start past the quote.
          stringStart = previous === COLON ? base + i + 1 : -1;
        } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) d++;
        else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) d--;
        if (!isJsonSpace(c)) previous = c;
        i++;
        continue;
      }
      i++;
      if (closed) {
        if (!isJsonSpace(c)) return fail('unexpected text after the closing "]" of the array');
        continue;
      }
      if (d === 0) {
        // The first character of the line (the framer checked it is `[`).
        d = 1;
        elementStart = i;
        elementOffset = base + i;
        continue;
      }
      // Depth 1: between elements, or in a scalar element.
      if (c === COMMA || c === CLOSE_ARRAY) {
        if ((c === COMMA || elementChars || elements > 0) && !takeElement(text, elementStart, i - 1)) return;
        elementStart = i;
        elementOffset = base + i;
        if (c === CLOSE_ARRAY) {
          d = 0;
          closed = true;
          if (collectTrailer) {
            depth = 0;
            inString = false;
            return addTrailer(text.slice(i));
          }
        }
        continue;
      }
      if (c === CLOSE_OBJECT) return fail('"}" closes the array');
      if (!isJsonSpace(c)) {
        elementChars = true;
        previous = c;
      }
      if (c === QUOTE) {
        str = true;
        stringStart = -1; // a string element, not a member value
      } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) d++;
    }
    depth = d;
    inString = str;
    if (d >= 1 && !closed && elementStart < n) pending += text.slice(elementStart);
  };

  return {
    push(bytes, start, end) {
      if (error !== undefined || start === end) return;
      decodeInSlices(decoder, bytes, start, end, scan);
    },
    pushText(text) {
      scan(text);
    },
    end(atEnd) {
      const rest = decoder.end(); // bytes of an incomplete UTF-8 sequence, as U+FFFD
      if (rest.length > 0 && error === undefined) scan(rest);
      if (error !== undefined) return { kind: 'error', reason: error };
      if (closed) return { kind: 'array', trailer };
      if (depth === 1 && elements === 0 && !elementChars && !inString) return { kind: 'pretty-open' };
      pending = '';
      return {
        kind: 'error',
        reason: atEnd
          ? 'input ended in the middle of a value (truncated last line?): the array is not closed'
          : 'the line ends inside the array (no closing "]")',
      };
    },
  };
}
