/**
 * The two wire layouts of OTLP `Sample` and how to tell them apart from the bytes alone.
 *
 * proto v1.9 (pdata ≤ v0.147, IG's otel-profiles operator): 1 stack_index, 2 values (packed int64),
 * 3 attribute_indices (packed int32), 4 link_index (varint), 5 timestamps.
 * proto v1.10+ (our decoder, Collectors ≥ v0.148, Pyroscope): 1 stack_index, 2 attribute_indices,
 * 3 link_index, 4 values, 5 timestamps.
 *
 * Rule (per request, over every Sample): field 3 length-delimited or field 4 a varint is v1.9; field 3
 * a varint or field 4 length-delimited is v1.10; a Sample with field 2 but neither values-bearing field
 * 4 nor timestamps (field 5) is v1.9, since read as v1.10 it would carry no value at all. A request with
 * evidence of both is refused. Without evidence (Samples of only stack_index, or of fields 2 and 5) the
 * layouts read the same bytes differently only in the second case: it is read as v1.10, the current
 * layout. Encoders pack repeated scalars (proto3's default, and what Go does); an unpacked v1.9
 * attribute list would look like a v1.10 link index, which is why `--sample-layout` can force a layout.
 *
 * The v1.9 transform renumbers Sample fields in place: every tag involved is one byte (field < 16) in
 * both layouts, so no length anywhere changes and the normal decoder reads the result.
 */

export type SampleLayout = 'v1.9' | 'v1.10';
export type LayoutChoice = SampleLayout | 'auto';

export const LAYOUT_CHOICES: readonly LayoutChoice[] = ['auto', 'v1.9', 'v1.10'];

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

/** v1.9 field number → v1.10 field number, for the Sample fields that moved. */
const V19_TO_V110: Readonly<Record<number, number>> = { 2: 4, 3: 2, 4: 3 };

/** Malformed bytes: the message names the byte offset and what was expected. */
export class WireFormatError extends Error {
  override readonly name = 'WireFormatError';
}

export type LayoutDetection =
  | { readonly kind: 'layout'; readonly layout: SampleLayout; readonly evidence: boolean }
  | { readonly kind: 'mixed'; readonly message: string };

interface FieldSpan {
  readonly field: number;
  readonly wireType: number;
  /** Offset of the tag byte(s). */
  readonly tagAt: number;
  /** Body of a length-delimited field: [start, end). */
  readonly start: number;
  readonly end: number;
}

function readVarint(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let multiplier = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= buf.length) throw new WireFormatError(`truncated varint at byte ${pos}`);
    const b = buf[pos++]!;
    result += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) return [result, pos];
    multiplier *= 128;
  }
  throw new WireFormatError(`varint longer than 10 bytes at byte ${pos}`);
}

/** The fields of the message in buf[start, end), with byte offsets into buf. */
function* fields(buf: Uint8Array, start: number, end: number): Generator<FieldSpan> {
  let pos = start;
  while (pos < end) {
    const tagAt = pos;
    const [key, afterTag] = readVarint(buf, pos);
    const field = Math.floor(key / 8);
    const wireType = key % 8;
    if (field === 0) throw new WireFormatError(`field number 0 at byte ${tagAt}`);
    let bodyStart = afterTag;
    let bodyEnd: number;
    switch (wireType) {
      case WIRE_VARINT:
        bodyEnd = readVarint(buf, afterTag)[1];
        break;
      case WIRE_FIXED64:
        bodyEnd = afterTag + 8;
        break;
      case WIRE_FIXED32:
        bodyEnd = afterTag + 4;
        break;
      case WIRE_LEN: {
        const [length, afterLength] = readVarint(buf, afterTag);
        bodyStart = afterLength;
        bodyEnd = afterLength + length;
        break;
      }
      default:
        throw new WireFormatError(`unsupported wire type ${wireType} at byte ${tagAt}`);
    }
    if (bodyEnd > end) {
      throw new WireFormatError(
        `field ${field} at byte ${tagAt} runs past the end of its message (byte ${end}): the request is truncated`,
      );
    }
    yield { field, wireType, tagAt, start: bodyStart, end: bodyEnd };
    pos = bodyEnd;
  }
}

/** Every Sample message of an ExportProfilesServiceRequest, with its path for messages. */
function* samples(buf: Uint8Array): Generator<{ path: string; start: number; end: number }> {
  let ri = 0;
  for (const rp of fields(buf, 0, buf.length)) {
    if (rp.field !== 1 || rp.wireType !== WIRE_LEN) continue;
    let si = 0;
    for (const sp of fields(buf, rp.start, rp.end)) {
      if (sp.field !== 2 || sp.wireType !== WIRE_LEN) continue;
      let pi = 0;
      for (const p of fields(buf, sp.start, sp.end)) {
        if (p.field !== 2 || p.wireType !== WIRE_LEN) continue;
        let xi = 0;
        for (const s of fields(buf, p.start, p.end)) {
          if (s.field !== 2 || s.wireType !== WIRE_LEN) continue;
          yield {
            path: `resource_profiles[${ri}].scope_profiles[${si}].profiles[${pi}].samples[${xi}]`,
            start: s.start,
            end: s.end,
          };
          xi++;
        }
        pi++;
      }
      si++;
    }
    ri++;
  }
}

/** Which layout one Sample's fields show: 'v1.9', 'v1.10', or undefined (no evidence). */
function sampleEvidence(
  buf: Uint8Array,
  start: number,
  end: number,
): { layout?: SampleLayout; why?: string } {
  let has2 = false;
  let has4 = false;
  let has5 = false;
  for (const f of fields(buf, start, end)) {
    if (f.field === 3 && f.wireType === WIRE_LEN)
      return { layout: 'v1.9', why: 'field 3 is a packed list (v1.9 attribute_indices)' };
    if (f.field === 4 && f.wireType === WIRE_VARINT)
      return { layout: 'v1.9', why: 'field 4 is a varint (v1.9 link_index)' };
    if (f.field === 3 && f.wireType === WIRE_VARINT)
      return { layout: 'v1.10', why: 'field 3 is a varint (v1.10 link_index)' };
    if (f.field === 4 && f.wireType === WIRE_LEN)
      return { layout: 'v1.10', why: 'field 4 is a packed list (v1.10 values)' };
    if (f.field === 2) has2 = true;
    if (f.field === 4) has4 = true;
    if (f.field === 5) has5 = true;
  }
  if (has2 && !has4 && !has5)
    return { layout: 'v1.9', why: 'field 2 is its only value-bearing field (v1.9 values)' };
  return {};
}

/**
 * The Sample layout of a protobuf request (see the module doc for the rule). Throws WireFormatError on
 * bytes that are not a well-formed message down to the Samples.
 */
export function detectSampleLayout(buf: Uint8Array): LayoutDetection {
  let first: { layout: SampleLayout; path: string; why: string } | undefined;
  for (const s of samples(buf)) {
    const evidence = sampleEvidence(buf, s.start, s.end);
    if (evidence.layout === undefined) continue;
    if (first === undefined) {
      first = { layout: evidence.layout, path: s.path, why: evidence.why ?? '' };
    } else if (first.layout !== evidence.layout) {
      return {
        kind: 'mixed',
        message:
          `the request mixes Sample layouts: ${first.path} is ${first.layout} (${first.why}) but ${s.path} is ` +
          `${evidence.layout} (${evidence.why ?? ''}); send one layout per request, or force one with --sample-layout`,
      };
    }
  }
  return first
    ? { kind: 'layout', layout: first.layout, evidence: true }
    : { kind: 'layout', layout: 'v1.10', evidence: false };
}

/**
 * A copy of a v1.9 request with every Sample renumbered to v1.10 (values 2→4, attribute_indices 3→2,
 * link_index 4→3). Throws WireFormatError on malformed bytes.
 */
export function rewriteV19Samples(buf: Uint8Array): Uint8Array {
  const out = Uint8Array.from(buf);
  for (const s of samples(buf)) {
    for (const f of fields(buf, s.start, s.end)) {
      const target = V19_TO_V110[f.field];
      if (target === undefined) continue;
      // Single-byte tags in both layouts (fields 2–4), so the rewrite never moves a byte.
      out[f.tagAt] = (target << 3) | f.wireType;
    }
  }
  return out;
}
