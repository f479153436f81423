import { crc32 } from '../../util/crc32.js';

/**
 * On-disk form of one persistent-queue batch. All integers little-endian:
 *
 * ```
 * offset  size  field
 *      0     4  magic "IGOQ"
 *      4     2  format version (1)
 *      6     2  id length in bytes (UTF-8)
 *      8     4  payload length
 *     12     4  payload CRC-32
 *     16     4  profiles
 *     20     4  samples
 *     24     8  enqueue time, ms since the epoch (float64)
 *     32     n  batch id (UTF-8)
 *   32+n     4  header CRC-32 over bytes [0, 32+n)
 *   36+n     …  payload: the encoded ExportProfilesServiceRequest
 * ```
 *
 * The header has its own checksum so a torn or bit-flipped header is told apart from a bad
 * payload, and its counts can still be reported when only the payload is damaged.
 */

/** File magic: "IGOQ" (Inspektor Gadget OTel Queue). */
export const QUEUE_FILE_MAGIC = Buffer.from('IGOQ', 'latin1');
/** Bumped on any incompatible layout change; older readers report newer files as unsupported. */
export const QUEUE_FILE_VERSION = 1;
/** Size of the fixed part of the header, before the id. */
export const QUEUE_FILE_FIXED_HEADER_BYTES = 32;
/** Size of the header checksum after the id. */
const HEADER_CRC_BYTES = 4;
/** Ids are ours (short); a larger length means a damaged header. */
export const QUEUE_FILE_MAX_ID_BYTES = 1024;

export interface QueueRecord {
  readonly id: string;
  readonly profiles: number;
  readonly samples: number;
  readonly enqueuedAt: number;
  readonly payload: Uint8Array;
}

/** Header fields that could be read even if the payload is damaged. */
export interface QueueRecordHeader {
  readonly id: string;
  readonly profiles: number;
  readonly samples: number;
  readonly payloadBytes: number;
}

export type DecodedQueueRecord =
  | { readonly ok: true; readonly record: QueueRecord }
  | { readonly ok: false; readonly problem: string; readonly header?: QueueRecordHeader };

/** Header plus payload, ready to be written in one go. */
export function encodeQueueRecord(record: QueueRecord): Buffer {
  const id = Buffer.from(record.id, 'utf8');
  if (id.length > QUEUE_FILE_MAX_ID_BYTES) {
    throw new Error(
      `batch id is ${id.length} bytes long; the persistent queue stores at most ${QUEUE_FILE_MAX_ID_BYTES}`,
    );
  }
  const headerBytes = QUEUE_FILE_FIXED_HEADER_BYTES + id.length;
  const out = Buffer.allocUnsafe(headerBytes + HEADER_CRC_BYTES + record.payload.length);
  QUEUE_FILE_MAGIC.copy(out, 0);
  out.writeUInt16LE(QUEUE_FILE_VERSION, 4);
  out.writeUInt16LE(id.length, 6);
  out.writeUInt32LE(record.payload.length, 8);
  out.writeUInt32LE(crc32(record.payload), 12);
  out.writeUInt32LE(clampU32(record.profiles), 16);
  out.writeUInt32LE(clampU32(record.samples), 20);
  out.writeDoubleLE(record.enqueuedAt, 24);
  id.copy(out, QUEUE_FILE_FIXED_HEADER_BYTES);
  out.writeUInt32LE(crc32(out.subarray(0, headerBytes)), headerBytes);
  out.set(record.payload, headerBytes + HEADER_CRC_BYTES);
  return out;
}

/** Parses and verifies one file's content; never throws. */
export function decodeQueueRecord(data: Uint8Array): DecodedQueueRecord {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (buf.length < QUEUE_FILE_FIXED_HEADER_BYTES) {
    return {
      ok: false,
      problem: `torn header: ${buf.length} bytes, a header needs at least ${QUEUE_FILE_FIXED_HEADER_BYTES + HEADER_CRC_BYTES}`,
    };
  }
  if (!buf.subarray(0, 4).equals(QUEUE_FILE_MAGIC)) {
    return {
      ok: false,
      problem: `bad magic ${buf.subarray(0, 4).toString('hex')} (expected ${QUEUE_FILE_MAGIC.toString('hex')}): not a queue file or damaged`,
    };
  }
  const version = buf.readUInt16LE(4);
  if (version !== QUEUE_FILE_VERSION) {
    return {
      ok: false,
      problem: `unsupported format version ${version} (this build reads ${QUEUE_FILE_VERSION})`,
    };
  }
  const idBytes = buf.readUInt16LE(6);
  if (idBytes > QUEUE_FILE_MAX_ID_BYTES)
    return { ok: false, problem: `implausible id length ${idBytes}: damaged header` };
  const headerBytes = QUEUE_FILE_FIXED_HEADER_BYTES + idBytes;
  if (buf.length < headerBytes + HEADER_CRC_BYTES) {
    return {
      ok: false,
      problem: `torn header: ${buf.length} bytes, the header needs ${headerBytes + HEADER_CRC_BYTES}`,
    };
  }
  const headerCrc = crc32(buf.subarray(0, headerBytes));
  if (headerCrc !== buf.readUInt32LE(headerBytes)) return { ok: false, problem: 'header checksum mismatch' };

  const payloadBytes = buf.readUInt32LE(8);
  const header: QueueRecordHeader = {
    id: buf.toString('utf8', QUEUE_FILE_FIXED_HEADER_BYTES, headerBytes),
    profiles: buf.readUInt32LE(16),
    samples: buf.readUInt32LE(20),
    payloadBytes,
  };
  const payloadStart = headerBytes + HEADER_CRC_BYTES;
  const actual = buf.length - payloadStart;
  if (actual < payloadBytes) {
    return { ok: false, problem: `truncated: payload has ${actual} of ${payloadBytes} bytes`, header };
  }
  if (actual > payloadBytes) {
    return {
      ok: false,
      problem: `${actual - payloadBytes} unexpected trailing bytes after the ${payloadBytes}-byte payload`,
      header,
    };
  }
  const payload = buf.subarray(payloadStart);
  const expected = buf.readUInt32LE(12);
  const computed = crc32(payload);
  if (computed !== expected) {
    return {
      ok: false,
      problem: `payload checksum mismatch (stored ${hex32(expected)}, computed ${hex32(computed)})`,
      header,
    };
  }
  return {
    ok: true,
    record: {
      id: header.id,
      profiles: header.profiles,
      samples: header.samples,
      enqueuedAt: buf.readDoubleLE(24),
      payload,
    },
  };
}

function clampU32(n: number): number {
  return Math.min(0xffffffff, Math.max(0, Math.trunc(n)));
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
