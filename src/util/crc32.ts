import * as zlib from 'node:zlib';

/**
 * CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, the one zlib, gzip and PNG use) of the
 * persistent-queue payloads. `zlib.crc32` exists from Node 20.15 / 22.2; older Node 20 releases
 * fall back to the table-driven version below, which gives the same values.
 */

/** Reflected CRC-32 polynomial. */
const POLYNOMIAL = 0xedb88320;

const TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? POLYNOMIAL ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** Table-driven CRC-32; `previous` continues a running checksum. */
export function crc32Table(data: Uint8Array, previous = 0): number {
  let c = ~previous >>> 0;
  for (let i = 0; i < data.length; i++) {
    c = (TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  }
  return ~c >>> 0;
}

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

/** CRC-32 of `data`: zlib's native implementation when this Node has one, else the table. */
export const crc32: (data: Uint8Array, previous?: number) => number =
  typeof nativeCrc32 === 'function' ? (data, previous = 0) => nativeCrc32(data, previous) >>> 0 : crc32Table;
