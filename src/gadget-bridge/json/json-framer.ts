/**
 * Splits a byte stream of IG JSON output into top-level JSON texts with their line number and
 * byte offset, without parsing them. It accepts on the same stream, detected line by line:
 *  - one value per line: `ig run … -o json` arrays (`[]` included), `kubectl gadget` combined
 *    arrays, and the `logs` operator's NDJSON envelopes (`{"type":"gadget-data",…}`);
 *  - `-o jsonpretty`: a line that is exactly `[` at column 0 opens an array that the next line
 *    that is exactly `]` at column 0 closes. IG indents everything in between.
 * Lines are split on bytes, so offsets are exact and multi-byte UTF-8 never breaks across chunks.
 * A line that starts with `[` is split into its elements as it arrives (array-line-splitter.ts):
 * an `-o json` fetch is megabytes on one line, and never holding it whole keeps memory at one
 * element. So is the `data` array of a line that starts with `{` (envelope-line-splitter.ts).
 * Other lines (pretty arrays, envelopes without a `data` array) are buffered whole.
 */
import { StringDecoder } from 'node:string_decoder';
import { createArrayLineSplitter } from './array-line-splitter.js';
import type { ArrayLineSink, ArrayLineSplitter, ElementSpans } from './array-line-splitter.js';
import { createEnvelopeLineSplitter } from './envelope-line-splitter.js';
import type { EnvelopeLineSplitter } from './envelope-line-splitter.js';
import { decodeInSlices, decodeUtf8 } from './utf8-slices.js';

/** A complete top-level JSON text, not yet parsed. */
export interface FramedText {
  readonly kind: 'text';
  readonly text: string;
  /** 1-based line where the value starts. */
  readonly line: number;
  /** 0-based byte offset of that line in the input. */
  readonly byte: number;
  /** True when the value is the last line and had no newline after it (it may be truncated). */
  readonly atEnd: boolean;
  /** Byte offset just past the value's last line (its newline included): where reading may resume. */
  readonly end: number;
}

/** Input that cannot be a value: reported by the source, then skipped. */
export interface FramingError {
  readonly kind: 'error';
  readonly reason: string;
  readonly line: number;
  readonly byte: number;
  /** Whether this frame would have been an array: a replay reserves a timeline slot for it. */
  readonly arrayLike: boolean;
}

/** One element of a single-line array, complete; more may follow on the same line. */
export interface FramedElement {
  readonly kind: 'element';
  readonly text: string;
  /** Line and byte of the array the element belongs to. */
  readonly line: number;
  readonly byte: number;
  /** What the splitter noted in `text`: big integers, long strings (see ElementSpans). */
  readonly spans: ElementSpans;
}

/**
 * The single-line array that the preceding `element` frames belong to closed correctly. When the
 * line turns out broken, a FramingError with the array's line and byte comes instead.
 */
export interface FramedArrayEnd {
  readonly kind: 'array-end';
  readonly line: number;
  readonly byte: number;
  /** Byte offset just past the array's line (its newline included). */
  readonly end: number;
}

/**
 * A `logs` envelope line whose `data` array came as the preceding `element` frames: `members` is
 * the line with `"data":[]` in its place (envelope-line-splitter.ts).
 */
export interface FramedEnvelopeEnd {
  readonly kind: 'envelope-end';
  readonly members: string;
  readonly line: number;
  readonly byte: number;
  /** True when the line was the last and had no newline after it. */
  readonly atEnd: boolean;
  /** Byte offset just past the line (its newline included). */
  readonly end: number;
}

export type Frame = FramedText | FramingError | FramedElement | FramedArrayEnd | FramedEnvelopeEnd;

export interface JsonFramer {
  /** Feeds bytes; returns the frames completed by them, in order. */
  push(chunk: Uint8Array): Frame[];
  /** End of input: the last line without newline, or an unclosed pretty array. */
  end(): Frame[];
}

/**
 * Longest line (bytes) read by default. Array lines are streamed element by element, but other
 * lines (and pretty arrays) are held whole as one string, and V8 refuses strings past ~512 MiB:
 * a longer line would end the run with "Invalid string length" and nothing to say where.
 */
export const DEFAULT_MAX_LINE_BYTES = 256 * 1024 * 1024;
/** The largest maximum accepted: a string of this many bytes still fits V8's string limit. */
export const MAX_LINE_BYTES_LIMIT = 500 * 1024 * 1024;

export interface JsonFramerOptions {
  /** Offset where reading began: 0, or a followed file's resume point. */
  readonly startByte?: number;
  /** A longer line (a longer pretty array) is skipped whole, as a FramingError. */
  readonly maxLineBytes?: number;
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;
const OPEN_BRACKET = 91;
const OPEN_BRACE = 123;

/** A `-o jsonpretty` array being collected: its lines, and where it started. */
interface PrettyArray {
  lines: string[];
  line: number;
  byte: number;
  bytes: number;
}

/** The reason of a pretty array cut short by a value that starts at column 0. */
const notClosedBefore = (line: number): string =>
  `the pretty-printed array was not closed before line ${line} starts a new value (truncated output?)`;

/**
 * Creates a framer; line counting starts at 1 and byte counting at `startByte` (the offset where
 * reading began: 0, or a followed file's resume point).
 */
export function createJsonFramer(options: JsonFramerOptions = {}): JsonFramer {
  const startByte = options.startByte ?? 0;
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  let line = 1; // number of the line being read
  let lineStart = startByte; // offset of its first byte
  let lineEnd = startByte; // offset just past the line being completed (newline included)
  let base = startByte; // bytes before the current chunk
  // Text of the current line seen so far, decoded as it arrives: pieces joined once at the newline
  // (concatenating the bytes first, then decoding, copied a megabyte envelope line twice more).
  let partialDecoder: StringDecoder | undefined;
  let partial: string[] = [];
  let pretty: PrettyArray | undefined;
  let skipping = false; // after a broken pretty array: until the next `[` or `{` at column 0
  let lineFresh = true; // no byte of the current line seen yet
  let arrayLine: ArrayLineSplitter | undefined; // the current line starts with `[`
  let envelopeLine: EnvelopeLineSplitter | undefined; // the current line starts with `{`
  let arrayOut: Frame[] = []; // where the splitter's elements go (the current push's frames)
  // The current line passed maxLineBytes: its bytes are dropped up to its newline.
  let oversized: { arrayLike: boolean; reported: boolean } | undefined;

  const tooLong = (what: string): string =>
    `${what} is longer than the maximum line size (${maxLineBytes} bytes): skipped whole; ` +
    `raise --max-line-size if such lines are expected`;
  /** Reports the open pretty array as broken, at the line that opened it, and forgets it. */
  const breakPretty = (open: PrettyArray, reason: string, out: Frame[]): void => {
    out.push({ kind: 'error', reason, line: open.line, byte: open.byte, arrayLike: true });
    pretty = undefined;
  };

  /** Drops what was kept of the current line once it is known to be too long. */
  const startOversized = (out: Frame[]): void => {
    // Inside a pretty array the line breaks the array: that one error reports it.
    oversized = { arrayLike: arrayLine !== undefined, reported: pretty !== undefined };
    if (pretty) {
      breakPretty(pretty, tooLong(`line ${line} of the pretty-printed array`), out);
      skipping = true;
    }
    arrayLine = undefined;
    envelopeLine = undefined;
    partial = [];
    partialDecoder = undefined;
  };
  const endOversized = (out: Frame[]): void => {
    if (!oversized) return;
    if (!oversized.reported)
      out.push({
        kind: 'error',
        reason: tooLong('the line'),
        line,
        byte: lineStart,
        arrayLike: oversized.arrayLike,
      });
    oversized = undefined;
  };

  const handleLine = (text: string, lineNo: number, lineByte: number, out: Frame[], atEnd: boolean): void => {
    const first = text.charCodeAt(0);
    if (pretty) {
      if (first === 93 /* ] */ && text.trimEnd() === ']') {
        pretty.lines.push(text);
        out.push({
          kind: 'text',
          text: pretty.lines.join('\n'),
          line: pretty.line,
          byte: pretty.byte,
          atEnd: false,
          end: lineEnd,
        });
        pretty = undefined;
        return;
      }
      if (text.length === 0 || first === 32 || first === 9) {
        pretty.lines.push(text);
        pretty.bytes += lineEnd - lineByte;
        if (pretty.bytes > maxLineBytes) {
          breakPretty(pretty, tooLong(`the pretty-printed array (through line ${lineNo})`), out);
          skipping = true;
        }
        return;
      }
      // Something at column 0 that is not the closing bracket: the array is broken.
      const startsNew = first === 91 /* [ */ || first === 123; /* { */
      breakPretty(
        pretty,
        startsNew
          ? notClosedBefore(lineNo)
          : `line ${lineNo} breaks the pretty-printed array that starts here (expected indented lines and a closing "]")`,
        out,
      );
      if (!startsNew) {
        skipping = true;
        return;
      }
    }
    if (skipping) {
      if (first !== 91 && first !== 123) return;
      skipping = false;
    }
    if (text.trim() === '') return;
    const trimmed = text.trimStart();
    const c = trimmed.charCodeAt(0);
    if (c === 91 && first === 91 && trimmed.trimEnd() === '[') {
      if (atEnd) {
        out.push({
          kind: 'error',
          reason: 'input ended right after "[" (truncated output?)',
          line: lineNo,
          byte: lineByte,
          arrayLike: true,
        });
      } else {
        pretty = { lines: [text], line: lineNo, byte: lineByte, bytes: lineEnd - lineByte };
      }
      return;
    }
    if (c === 91 || c === 123) {
      out.push({ kind: 'text', text, line: lineNo, byte: lineByte, atEnd, end: lineEnd });
      return;
    }
    const shown = trimmed.length > 60 ? `${trimmed.slice(0, 60)}…` : trimmed;
    out.push({
      kind: 'error',
      reason: `not JSON (expected a "[" array or a logs envelope "{"): ${JSON.stringify(shown)}; is stderr mixed into the input (2>&1)?`,
      line: lineNo,
      byte: lineByte,
      arrayLike: false,
    });
  };

  const completeLine = (bytes: Buffer, start: number, end: number, out: Frame[], atEnd: boolean): void => {
    let stop = end;
    if (stop > start && bytes[stop - 1] === CARRIAGE_RETURN) stop--;
    handleLine(decodeUtf8(bytes, start, stop), line, lineStart, out, atEnd);
  };
  const addPartial = (piece: string): void => {
    partial.push(piece);
  };
  /** Completes the line collected in `partial` (plus bytes [start, end) of `bytes`). */
  const completePartialLine = (
    bytes: Buffer,
    start: number,
    end: number,
    out: Frame[],
    atEnd: boolean,
  ): void => {
    const decoder = partialDecoder ?? new StringDecoder('utf8');
    decodeInSlices(decoder, bytes, start, end, addPartial);
    let text = partial.join('') + decoder.end();
    partial = [];
    partialDecoder = undefined;
    if (text.charCodeAt(text.length - 1) === CARRIAGE_RETURN) text = text.slice(0, -1);
    handleLine(text, line, lineStart, out, atEnd);
  };

  /** A line starts with `[` or `{`: the pretty array it interrupts is broken, skipping ends. */
  const interruptPretty = (out: Frame[]): void => {
    if (pretty) breakPretty(pretty, notClosedBefore(line), out);
    skipping = false;
  };
  /** Where a splitter's elements go: frames of the current push, tagged with the line they are on. */
  const elementSink = (): ArrayLineSink => {
    const lineNo = line;
    const lineByte = lineStart;
    return {
      element: (text, spans) => arrayOut.push({ kind: 'element', text, spans, line: lineNo, byte: lineByte }),
    };
  };
  const startArrayLine = (out: Frame[]): void => {
    interruptPretty(out);
    arrayLine = createArrayLineSplitter(elementSink());
  };
  const startEnvelopeLine = (out: Frame[]): void => {
    interruptPretty(out);
    envelopeLine = createEnvelopeLineSplitter(elementSink());
  };
  const endEnvelopeLine = (splitter: EnvelopeLineSplitter, out: Frame[], atEnd: boolean): void => {
    envelopeLine = undefined;
    const result = splitter.end(atEnd);
    if (result.kind === 'envelope') {
      out.push({ kind: 'envelope-end', members: result.members, line, byte: lineStart, atEnd, end: lineEnd });
    } else if (result.kind === 'text') {
      handleLine(result.text, line, lineStart, out, atEnd);
    } else {
      out.push({ kind: 'error', reason: result.reason, line, byte: lineStart, arrayLike: false });
    }
  };

  const endArrayLine = (splitter: ArrayLineSplitter, out: Frame[], atEnd: boolean): void => {
    arrayLine = undefined;
    const result = splitter.end(atEnd);
    if (result.kind === 'array') out.push({ kind: 'array-end', line, byte: lineStart, end: lineEnd });
    else if (result.kind === 'pretty-open') handleLine('[', line, lineStart, out, atEnd);
    else out.push({ kind: 'error', reason: result.reason, line, byte: lineStart, arrayLike: true });
  };

  return {
    push(chunk) {
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const out: Frame[] = [];
      arrayOut = out;
      let start = 0;
      while (start < buf.length) {
        if (lineFresh) {
          lineFresh = false;
          if (buf[start] === OPEN_BRACKET) startArrayLine(out);
          else if (buf[start] === OPEN_BRACE) startEnvelopeLine(out);
        }
        const nl = buf.indexOf(NEWLINE, start);
        const stop = nl === -1 ? buf.length : nl;
        if (nl !== -1) lineEnd = base + nl + 1;
        if (!oversized && base + stop - lineStart > maxLineBytes) startOversized(out);
        if (oversized) {
          // Dropped: nothing of it is kept.
        } else if (arrayLine) {
          arrayLine.push(buf, start, stop);
        } else if (envelopeLine) {
          envelopeLine.push(buf, start, stop);
        } else if (nl === -1) {
          partialDecoder ??= new StringDecoder('utf8');
          decodeInSlices(partialDecoder, buf, start, buf.length, addPartial);
        } else if (partialDecoder) {
          completePartialLine(buf, start, nl, out, false);
        } else {
          completeLine(buf, start, nl, out, false);
        }
        if (nl === -1) break;
        if (oversized) endOversized(out);
        else if (arrayLine) endArrayLine(arrayLine, out, false);
        else if (envelopeLine) endEnvelopeLine(envelopeLine, out, false);
        line++;
        start = nl + 1;
        lineStart = base + start;
        lineFresh = true;
      }
      base += buf.length;
      return out;
    },
    end() {
      const out: Frame[] = [];
      arrayOut = out;
      lineEnd = base;
      endOversized(out);
      if (arrayLine) endArrayLine(arrayLine, out, true);
      if (envelopeLine) endEnvelopeLine(envelopeLine, out, true);
      if (partialDecoder) completePartialLine(Buffer.alloc(0), 0, 0, out, true);
      if (pretty) {
        breakPretty(
          pretty,
          'input ended inside the pretty-printed array that starts here (truncated output?)',
          out,
        );
      }
      skipping = false;
      lineFresh = true;
      return out;
    },
  };
}
