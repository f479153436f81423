/**
 * Turns framed JSON texts into emissions (one IG fetch each): a `-o json`/`jsonpretty`/
 * `kubectl gadget` array, a `logs` envelope (whole, or its members after its `data` elements
 * came one by one), or consecutive element lines of one envelope `seq`
 * (`logs.array-handling: elements`) grouped back together. Anything else is reported as malformed.
 */
import type { GadgetRow } from '../../rows/gadget-row.js';
import { gadgetRows } from '../../rows/gadget-row.js';
import type { FramedArrayEnd, FramedElement, FramedEnvelopeEnd, FramedText } from './json-framer.js';
import { isEnvelopeLike, readEnvelope, ENVELOPE_TYPE_DATA, ENVELOPE_TYPE_EMPTY } from './logs-envelope.js';
import type { LogsEnvelope } from './logs-envelope.js';
import { parseJsonDeferringExactness } from './deferred-exact-json.js';
import { parseJsonElement } from './json-element-parser.js';
import { LongStringCache } from './long-string-cache.js';
import { parseLosslessJson } from './lossless-json.js';
import type { JsonValue } from './lossless-json.js';
import { errorText } from '../../util/error-text.js';

export interface Emission {
  readonly rows: readonly GadgetRow[];
  /** Where the emission starts in the input. */
  readonly line: number;
  readonly byte: number;
  /** Byte offset just past its last line: everything before it has been read. */
  readonly end: number;
  /** Set for `logs` envelopes (without `data`). */
  readonly envelope?: Omit<LogsEnvelope, 'data'>;
}

export interface EmissionDecoderHooks {
  /**
   * A value that cannot be used; `arrayLike` when it looked like an array emission (no emission
   * comes of it). `count`: how many values it stands for (elements of one line; default 1).
   */
  malformed(line: number, byte: number, reason: string, arrayLike: boolean, count?: number): void;
  /** A top-level value was parsed and accepted. */
  valueRead(): void;
  /** Array elements that are not row objects (counted as read, then dropped). */
  rowsNotObjects(count: number, line: number): void;
  /** An envelope of another type (for example the gadget's own log messages): nothing to export. */
  ignoredEnvelope(type: string, line: number): void;
}

export interface EmissionDecoder {
  /**
   * Emissions completed by this frame (a pending element group may complete first). Elements of
   * a single-line array are parsed as they come and emitted with its `array-end`.
   */
  decode(frame: FramedText | FramedElement | FramedArrayEnd | FramedEnvelopeEnd): Emission[];
  /** The framer found the current single-line array broken: forget its elements (returns how many). */
  abandonArray(): number;
  /** True while element lines of one `seq` are being collected. */
  readonly hasPendingGroup: boolean;
  /** Completes the pending element group (at end of input, or when the input went quiet). */
  flush(): Emission[];
}

interface ElementGroup {
  readonly key: string;
  readonly rows: GadgetRow[];
  readonly line: number;
  readonly byte: number;
  end: number;
  envelope: Omit<LogsEnvelope, 'data'>;
}

const isRow = (v: JsonValue | undefined): v is { [key: string]: JsonValue } =>
  v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);

function typeName(v: JsonValue): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'bigint' ? 'number' : typeof v;
}

/** The single-line array being received element by element. */
interface OpenArray {
  readonly line: number;
  readonly byte: number;
  readonly values: JsonValue[];
  /** The first element that did not parse, and why; the others are still read. */
  failure?: { readonly element: number; readonly message: string };
  /** Elements that did not parse. */
  failed: number;
}

/** Why a text did not parse; `atEnd`: it was the last line, without a newline (truncated?). */
function parseFailure(err: unknown, atEnd: boolean): string {
  const msg = errorText(err);
  return atEnd ? `input ended in the middle of a value (truncated last line?): ${msg}` : msg;
}

const failureText = (failure: NonNullable<OpenArray['failure']>, container: string): string =>
  `element ${failure.element} of ${container}: ${failure.message}`;

export function createEmissionDecoder(hooks: EmissionDecoderHooks): EmissionDecoder {
  let group: ElementGroup | undefined;
  let open: OpenArray | undefined;
  // Stacks and container ids recur row after row: one decoded copy of each, shared by every row.
  const longStrings = new LongStringCache();

  const addElement = (frame: FramedElement): void => {
    if (!open || open.line !== frame.line)
      open = { line: frame.line, byte: frame.byte, values: [], failed: 0 };
    try {
      open.values.push(parseJsonElement(frame.text, frame.spans, longStrings));
    } catch (err) {
      // The framer delimited it, so the elements around it stand on their own: only it is lost.
      const msg = errorText(err);
      open.failed++;
      open.failure ??= { element: open.values.length + open.failed, message: msg };
    }
  };
  /**
   * The elements framed on the line of `frame` that parsed (none when it had none). Those that did
   * not are reported malformed (counted one each), naming the first and its `container`; undefined
   * when none parsed.
   */
  const takeElements = (
    frame: { readonly line: number; readonly byte: number },
    container: string,
    arrayLike: boolean,
  ): JsonValue[] | undefined => {
    const taken = open && open.line === frame.line ? open : undefined;
    open = undefined;
    if (taken?.failure === undefined) return taken?.values ?? [];
    const total = taken.values.length + taken.failed;
    const kept = taken.values.length;
    hooks.malformed(
      frame.line,
      frame.byte,
      `${failureText(taken.failure, container)} (${taken.failed} of ${total} element(s) unreadable; ` +
        `${kept === 0 ? 'none' : `the other ${kept}`} kept)`,
      arrayLike && kept === 0,
      taken.failed,
    );
    return kept === 0 ? undefined : taken.values;
  };
  const endArray = (frame: FramedArrayEnd): Emission[] => {
    const values = takeElements(frame, 'the array', true);
    return values ? fromValue(values, frame) : [];
  };

  const takeGroup = (): Emission[] => {
    if (!group) return [];
    const g = group;
    group = undefined;
    return [{ rows: g.rows, line: g.line, byte: g.byte, end: g.end, envelope: g.envelope }];
  };
  const rowsOf = (values: readonly JsonValue[], line: number): GadgetRow[] => {
    let bad = 0;
    for (const v of values) if (!isRow(v)) bad++;
    if (bad === 0) return gadgetRows(values as { [key: string]: JsonValue }[]);
    hooks.rowsNotObjects(bad, line);
    return gadgetRows(values.filter(isRow));
  };

  /** A parsed top-level value: an array of rows or an envelope (`streamed`: its `data` elements). */
  const fromValue = (
    value: JsonValue,
    frame: { readonly line: number; readonly byte: number; readonly end: number },
    streamed?: JsonValue[],
  ): Emission[] => {
    const { line, byte, end } = frame;
    if (Array.isArray(value)) {
      hooks.valueRead();
      const out = takeGroup();
      out.push({ rows: rowsOf(value, line), line, byte, end });
      return out;
    }
    if (!isEnvelopeLike(value)) {
      const shape = isRow(value) ? 'an object without a "type" field' : `a ${typeName(value)}`;
      hooks.malformed(
        line,
        byte,
        `expected a JSON array of rows (ig -o json) or a logs-operator envelope, got ${shape}`,
        false,
      );
      return [];
    }
    const { data: written, ...envelope } = readEnvelope(value);
    // A split line has `"data":[]` in place of its elements (unless a later `data` member won).
    const data = streamed && Array.isArray(written) && written.length === 0 ? streamed : written;
    if (envelope.type === ENVELOPE_TYPE_EMPTY) {
      hooks.valueRead();
      const out = takeGroup();
      out.push({ rows: [], line, byte, end, envelope });
      return out;
    }
    if (envelope.type !== ENVELOPE_TYPE_DATA) {
      hooks.valueRead();
      hooks.ignoredEnvelope(envelope.type, line);
      return [];
    }
    if (Array.isArray(data)) {
      hooks.valueRead();
      const out = takeGroup();
      out.push({ rows: rowsOf(data, line), line, byte, end, envelope });
      return out;
    }
    if (data === undefined) {
      hooks.malformed(line, byte, `"${ENVELOPE_TYPE_DATA}" envelope without "data"`, false);
      return [];
    }
    // One element per line (logs.array-handling: elements): group by seq + datasource + instance.
    hooks.valueRead();
    const key = `${String(envelope.seq)}\u0000${envelope.datasource ?? ''}\u0000${envelope.instanceId ?? ''}\u0000${envelope.gadget ?? ''}`;
    const out = group && group.key === key ? [] : takeGroup();
    if (!group) group = { key, rows: [], line, byte, end, envelope };
    else group.end = end;
    if (
      envelope.timestampNano !== undefined &&
      (group.envelope.timestampNano === undefined || envelope.timestampNano > group.envelope.timestampNano)
    ) {
      group.envelope = envelope; // the window ends with the group's last line
    }
    group.rows.push(...rowsOf([data], line));
    return out;
  };
  /** An envelope line whose `data` elements were framed (and parsed) before its members. */
  const endEnvelope = (frame: FramedEnvelopeEnd): Emission[] => {
    const values = takeElements(frame, '"data"', false);
    if (!values) return [];
    let members: JsonValue;
    try {
      members = parseLosslessJson(frame.members); // a few short members: exact at once
    } catch (err) {
      const reason = parseFailure(err, frame.atEnd);
      hooks.malformed(frame.line, frame.byte, `the envelope around "data": ${reason}`, false);
      return [];
    }
    return fromValue(members, frame, values);
  };

  return {
    get hasPendingGroup() {
      return group !== undefined;
    },
    flush: takeGroup,
    abandonArray() {
      const lost = open ? open.values.length + open.failed : 0;
      open = undefined;
      return lost;
    },
    decode(frame) {
      if (frame.kind === 'element') {
        addElement(frame);
        return [];
      }
      if (frame.kind === 'array-end') return endArray(frame);
      if (frame.kind === 'envelope-end') return endEnvelope(frame);
      let value: JsonValue;
      try {
        // A whole text (a pretty array, or an envelope line not split) parses fastest deferring
        // exactness; an element is small and becomes garbage within the fetch, so it is parsed
        // exactly now and keeps no text alive (deferral would hold every element's text until the
        // fetch ends).
        value = parseJsonDeferringExactness(frame.text);
      } catch (err) {
        const reason = parseFailure(err, frame.atEnd);
        hooks.malformed(frame.line, frame.byte, reason, frame.text.trimStart().startsWith('['));
        return [];
      }
      return fromValue(value, frame);
    },
  };
}
