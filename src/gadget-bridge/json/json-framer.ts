/**
 * Splits a byte stream of IG JSON output into top-level JSON texts with their line number and
 * byte offset, without parsing them. It accepts on the same stream, detected line by line:
 *  - one value per line: `ig run … -o json` arrays (`[]` included), `kubectl gadget` combined
 *    arrays, and the `logs` operator's NDJSON envelopes (`{"type":"gadget-data",…}`);
 *  - `-o jsonpretty`: a line that is exactly `[` at column 0 opens an array that the next line
 *    that is exactly `]` at column 0 closes. IG indents everything in between.
 * Lines are split on bytes, so offsets are exact and multi-byte UTF-8 never breaks across chunks.
 * Only the current line (or pretty array) is buffered.
 */

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

export type Frame = FramedText | FramingError;

export interface JsonFramer {
  /** Feeds bytes; returns the frames completed by them, in order. */
  push(chunk: Uint8Array): Frame[];
  /** End of input: the last line without newline, or an unclosed pretty array. */
  end(): Frame[];
}

const NEWLINE = 10;
const CARRIAGE_RETURN = 13;

/** Creates a framer; line and byte counting start at line 1, byte 0. */
export function createJsonFramer(): JsonFramer {
  let line = 1; // number of the line being read
  let lineStart = 0; // offset of its first byte
  let base = 0; // bytes before the current chunk
  let partial: Buffer[] = []; // bytes of the current line seen so far
  let pretty: { lines: string[]; line: number; byte: number } | undefined;
  let skipping = false; // after a broken pretty array: until the next `[` or `{` at column 0

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
        });
        pretty = undefined;
        return;
      }
      if (text.length === 0 || first === 32 || first === 9) {
        pretty.lines.push(text);
        return;
      }
      // Something at column 0 that is not the closing bracket: the array is broken.
      const startsNew = first === 91 /* [ */ || first === 123; /* { */
      out.push({
        kind: 'error',
        reason: startsNew
          ? `the pretty-printed array was not closed before line ${lineNo} starts a new value (truncated output?)`
          : `line ${lineNo} breaks the pretty-printed array that starts here (expected indented lines and a closing "]")`,
        line: pretty.line,
        byte: pretty.byte,
        arrayLike: true,
      });
      pretty = undefined;
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
        pretty = { lines: [text], line: lineNo, byte: lineByte };
      }
      return;
    }
    if (c === 91 || c === 123) {
      out.push({ kind: 'text', text, line: lineNo, byte: lineByte, atEnd });
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
    const lineNo = line;
    const lineByte = lineStart;
    let stop = end;
    if (stop > start && bytes[stop - 1] === CARRIAGE_RETURN) stop--;
    handleLine(bytes.toString('utf8', start, stop), lineNo, lineByte, out, atEnd);
  };

  return {
    push(chunk) {
      const buf = Buffer.isBuffer(chunk)
        ? chunk
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      const out: Frame[] = [];
      let start = 0;
      let nl = buf.indexOf(NEWLINE, start);
      while (nl !== -1) {
        if (partial.length) {
          partial.push(buf.subarray(start, nl));
          const whole = Buffer.concat(partial);
          partial = [];
          completeLine(whole, 0, whole.length, out, false);
        } else {
          completeLine(buf, start, nl, out, false);
        }
        line++;
        start = nl + 1;
        lineStart = base + start;
        nl = buf.indexOf(NEWLINE, start);
      }
      // Copy the tail so a small partial line never pins a large read buffer.
      if (start < buf.length) partial.push(Buffer.from(buf.subarray(start)));
      base += buf.length;
      return out;
    },
    end() {
      const out: Frame[] = [];
      if (partial.length) {
        const whole = Buffer.concat(partial);
        partial = [];
        completeLine(whole, 0, whole.length, out, true);
      }
      if (pretty) {
        out.push({
          kind: 'error',
          reason: 'input ended inside the pretty-printed array that starts here (truncated output?)',
          line: pretty.line,
          byte: pretty.byte,
          arrayLike: true,
        });
        pretty = undefined;
      }
      skipping = false;
      return out;
    },
  };
}
