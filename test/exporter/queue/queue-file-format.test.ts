import assert from 'node:assert/strict';
import * as zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { crc32, crc32Table } from '../../../src/util/crc32.js';
import { decodeQueueRecord, encodeQueueRecord } from '../../../src/exporter/queue/queue-file-format.js';

const nativeCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

function record() {
  const payload = new Uint8Array(300);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
  return { id: 'batch-ü-42', profiles: 3, samples: 1234, enqueuedAt: 1_767_225_600_123, payload };
}

describe('CRC-32', () => {
  it('matches the IEEE check value and continues a running checksum', () => {
    const data = Buffer.from('123456789', 'latin1');
    assert.equal(crc32Table(data), 0xcbf43926);
    assert.equal(crc32(data), 0xcbf43926);
    assert.equal(crc32Table(data.subarray(4), crc32Table(data.subarray(0, 4))), 0xcbf43926);
    assert.equal(crc32Table(new Uint8Array(0)), 0);
  });

  it(
    'agrees with zlib.crc32',
    { skip: nativeCrc32 ? false : `zlib.crc32 is missing in Node ${process.version}` },
    () => {
      const data = new Uint8Array(100_000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
      assert.equal(crc32Table(data), nativeCrc32!(data) >>> 0);
    },
  );
});

describe('persistent queue file format', () => {
  it('round-trips id, counts, enqueue time and payload', () => {
    const input = record();
    const decoded = decodeQueueRecord(encodeQueueRecord(input));
    assert.ok(decoded.ok, decoded.ok ? '' : decoded.problem);
    assert.equal(decoded.record.id, input.id);
    assert.equal(decoded.record.profiles, 3);
    assert.equal(decoded.record.samples, 1234);
    assert.equal(decoded.record.enqueuedAt, input.enqueuedAt);
    assert.deepEqual([...decoded.record.payload], [...input.payload]);
  });

  it('reports a truncated payload with the header counts', () => {
    const data = encodeQueueRecord(record());
    const decoded = decodeQueueRecord(data.subarray(0, data.length - 10));
    assert.ok(!decoded.ok);
    assert.match(decoded.problem, /truncated: payload has 290 of 300 bytes/);
    assert.deepEqual(decoded.header, { id: 'batch-ü-42', profiles: 3, samples: 1234, payloadBytes: 300 });
  });

  it('reports a flipped payload byte as a checksum mismatch', () => {
    const data = encodeQueueRecord(record());
    data[data.length - 1]! ^= 0x01;
    const decoded = decodeQueueRecord(data);
    assert.ok(!decoded.ok);
    assert.match(decoded.problem, /payload checksum mismatch/);
    assert.equal(decoded.header?.samples, 1234);
  });

  it('reports a flipped header byte, a torn header, a bad magic and trailing bytes', () => {
    const good = encodeQueueRecord(record());
    const header = Buffer.from(good);
    header[20]! ^= 0x80; // samples
    const headerResult = decodeQueueRecord(header);
    assert.ok(!headerResult.ok);
    assert.equal(headerResult.problem, 'header checksum mismatch');
    assert.equal(headerResult.header, undefined);

    const torn = decodeQueueRecord(good.subarray(0, 10));
    assert.ok(!torn.ok);
    assert.match(torn.problem, /torn header: 10 bytes/);

    const tornId = decodeQueueRecord(good.subarray(0, 40));
    assert.ok(!tornId.ok);
    assert.match(tornId.problem, /torn header: 40 bytes/);

    const magic = Buffer.from(good);
    magic[0] = 0x7b;
    const magicResult = decodeQueueRecord(magic);
    assert.ok(!magicResult.ok);
    assert.match(magicResult.problem, /bad magic/);

    const trailing = decodeQueueRecord(Buffer.concat([good, Buffer.from([1, 2, 3])]));
    assert.ok(!trailing.ok);
    assert.match(trailing.problem, /3 unexpected trailing bytes/);
  });
});
