import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { decodeExportResponse } from '../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { toOtlpJson } from '../../src/profiles/encoding/otlp-json.js';
import { igRequest } from '../support/ig-otlp-wire.js';
import { CPU_EXPECTED, MALLOC_EXPECTED } from '../support/sinks-fixtures.js';
import type { TestServe } from '../serve/serve-fixtures.js';
import { startTestServe, storableSinkRequest, storedTotal } from '../serve/serve-fixtures.js';
import { grpcExport, postOtlp, replyStatus } from './receiver-fixtures.js';

const MAX_REQUEST_BYTES = 1024 * 1024;
const GRPC_INVALID_ARGUMENT = 3;
const GRPC_RESOURCE_EXHAUSTED = 8;

/**
 * Every kind of bad request gets the Collector's answer with a message naming the problem, on both
 * transports, and the server keeps serving with nothing already stored lost. A good request is stored
 * first; each case ends by checking its total is intact and a good request still goes through.
 */
describe('receiver: bad requests', () => {
  let serve: TestServe;
  let base: string;
  const good = encodeExportRequest(storableSinkRequest());
  const cpuTotal = CPU_EXPECTED.total;

  before(async () => {
    serve = await startTestServe({ maxRequestBytes: MAX_REQUEST_BYTES });
    base = serve.app.httpUrl;
    const first = await postOtlp(base, good);
    assert.equal(first.status, 200);
  });
  after(() => serve.cleanup());

  /** Nothing stored was lost and the server still takes a good request. */
  async function stillServing(): Promise<void> {
    const before = await storedTotal(base, '?type=samples/count');
    assert.equal(before % cpuTotal, 0n);
    assert.ok(before >= cpuTotal);
    const ok = await postOtlp(base, good, { gzip: true });
    assert.equal(ok.status, 200, ok.body.toString());
    assert.equal(await storedTotal(base, '?type=samples/count'), before + cpuTotal);
  }

  it('HTTP: garbage protobuf is 400 with a google.rpc.Status naming the decode error', async () => {
    const reply = await postOtlp(base, Buffer.from('this is not a protobuf message at all \xff\xff\xff'));
    assert.equal(reply.status, 400);
    assert.equal(reply.contentType, 'application/x-protobuf');
    const status = replyStatus(reply);
    assert.equal(status.code, GRPC_INVALID_ARGUMENT);
    assert.match(status.message, /malformed protobuf request: cannot decode ExportProfilesServiceRequest/);
    await stillServing();
  });

  it('HTTP: a truncated request is 400', async () => {
    const reply = await postOtlp(base, good.subarray(0, Math.floor(good.length * 0.6)));
    assert.equal(reply.status, 400);
    assert.match(replyStatus(reply).message, /cannot decode/);
    await stillServing();
  });

  it('a request in another Sample layout (proto v1.9) is 400 / INVALID_ARGUMENT naming the field, not stored misread', async () => {
    // v1.9 sends attribute_indices as field 3, a packed list: for v1.10+ field 3 is the int32 link_index.
    const v19 = Buffer.from(
      igRequest([{ stacks: ['a; b'], value: 3, attributes: { pid: 7, comm: 'x' } }], { layout: 'v1.9' }),
    );
    const reply = await postOtlp(base, v19);
    assert.equal(reply.status, 400, reply.body.toString());
    const message = replyStatus(reply).message;
    assert.match(message, /samples\[0\]\.link_index: sent as length-delimited \(wire type 2\)/);
    assert.match(message, /another OTLP profiles version/);
    const grpc = await grpcExport(serve.app.grpcAddress, v19);
    assert.equal(grpc.code, GRPC_INVALID_ARGUMENT);
    assert.match(grpc.details, /samples\[0\]\.link_index: sent as length-delimited/);
    await stillServing();
  });

  it('HTTP: malformed OTLP/JSON is 400 in JSON', async () => {
    const reply = await postOtlp(base, Buffer.from('{"resourceProfiles": [ {"resource": '), {
      contentType: 'application/json',
    });
    assert.equal(reply.status, 400);
    assert.equal(reply.contentType, 'application/json');
    const status = replyStatus(reply);
    assert.equal(status.code, GRPC_INVALID_ARGUMENT);
    assert.match(status.message, /malformed OTLP\/JSON request/);
    await stillServing();
  });

  it('HTTP: a body that is not gzip under Content-Encoding: gzip is 400 naming Content-Encoding', async () => {
    const reply = await postOtlp(base, good, { headers: { 'content-encoding': 'gzip' } });
    assert.equal(reply.status, 400);
    assert.match(replyStatus(reply).message, /not valid gzip data.*Content-Encoding/);
    await stillServing();
  });

  it('HTTP: an unknown Content-Encoding and Content-Type are refused by name', async () => {
    const br = await postOtlp(base, good, { headers: { 'content-encoding': 'br' } });
    assert.equal(br.status, 400);
    assert.match(replyStatus(br).message, /Content-Encoding "br" is not supported/);
    const text = await postOtlp(base, good, { contentType: 'text/plain' });
    assert.equal(text.status, 415);
    assert.match(replyStatus(text).message, /Content-Type "text\/plain" is not OTLP\/HTTP/);
    await stillServing();
  });

  it('HTTP: a body over --max-request-size is 413 without RetryInfo (declared length)', async () => {
    const reply = await postOtlp(base, Buffer.alloc(MAX_REQUEST_BYTES + 1));
    assert.equal(reply.status, 413);
    assert.equal(reply.retryAfter, null);
    const status = replyStatus(reply);
    assert.equal(status.code, GRPC_RESOURCE_EXHAUSTED);
    assert.match(status.message, /exceeds the receiver's limit of 1MiB \(--max-request-size\)/);
    assert.equal('retryDelayMs' in status, false);
    await stillServing();
  });

  it('HTTP: a chunked body (no Content-Length) over the limit is 413 too', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(`${base}/v1development/profiles`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      for (let sent = 0; sent <= MAX_REQUEST_BYTES; sent += chunk.length) req.write(chunk);
      req.end();
    });
    assert.equal(status, 413);
    assert.match(body, /--max-request-size/);
    await stillServing();
  });

  it('HTTP: a gzip bomb is 413 on its decompressed size, memory bounded by the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * MAX_REQUEST_BYTES)); // 64 MiB of zeros in ~64 KiB
    assert.ok(bomb.length < MAX_REQUEST_BYTES);
    const reply = await postOtlp(base, bomb, { headers: { 'content-encoding': 'gzip' } });
    assert.equal(reply.status, 413);
    assert.match(replyStatus(reply).message, /gzip-decompressed request body exceeds the receiver's limit/);
    await stillServing();
  });

  it('HTTP: GET on the OTLP path is 405', async () => {
    const res = await fetch(`${base}/v1development/profiles`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
  });

  it('an invalid stack index in one profile: partial_success rejects that profile by count, the other is stored', async () => {
    const request = storableSinkRequest();
    request.resourceProfiles[1]!.scopeProfiles[0]!.profiles[0]!.samples[0]!.stackIndex = 999; // no such stack
    const cpuBefore = await storedTotal(base, '?type=samples/count');
    const reply = await postOtlp(base, encodeExportRequest(request));
    assert.equal(reply.status, 200, reply.body.toString());
    const response = decodeExportResponse(reply.body);
    assert.equal(response.partialSuccess?.rejectedProfiles, 1n);
    assert.match(response.partialSuccess?.errorMessage ?? '', /resource_profiles\[1\].*stack_index/);
    assert.equal(
      await storedTotal(base, '?type=samples/count'),
      cpuBefore + cpuTotal,
      'the CPU profile is stored',
    );
    await stillServing();
  });

  it('invalid indices in every profile: 400 INVALID_ARGUMENT naming the field, in OTLP/JSON too', async () => {
    const request = storableSinkRequest();
    for (const rp of request.resourceProfiles) rp.scopeProfiles[0]!.profiles[0]!.samples[0]!.stackIndex = 999;
    const reply = await postOtlp(base, Buffer.from(toOtlpJson(request)), { contentType: 'application/json' });
    assert.equal(reply.status, 400);
    assert.equal(reply.contentType, 'application/json');
    const status = replyStatus(reply);
    assert.equal(status.code, GRPC_INVALID_ARGUMENT);
    assert.match(status.message, /request does not conform .*stack_index/);
    await stillServing();
  });

  it('a profile type naming no string (sample_type past the string table) is rejected by name', async () => {
    const request = storableSinkRequest();
    const cpu = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
    cpu.sampleType = { typeStrindex: 9_999, unitStrindex: 0 };
    const reply = await postOtlp(base, encodeExportRequest(request));
    assert.equal(reply.status, 200, reply.body.toString());
    const response = decodeExportResponse(reply.body);
    assert.equal(response.partialSuccess?.rejectedProfiles, 1n);
    assert.match(response.partialSuccess?.errorMessage ?? '', /sample_type/);
    await stillServing();
  });

  it('an index past a dictionary table rejects the whole request (every index is suspect)', async () => {
    const request = storableSinkRequest();
    request.dictionary.locationTable[4]!.lines[0]!.functionIndex = 77;
    const reply = await grpcExport(serve.app.grpcAddress, encodeExportRequest(request));
    assert.equal(reply.code, GRPC_INVALID_ARGUMENT);
    assert.match(reply.details, /function_index/);
    await stillServing();
  });

  it('gRPC: garbage is INVALID_ARGUMENT with a Status in grpc-status-details-bin', async () => {
    const reply = await grpcExport(serve.app.grpcAddress, Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02]));
    assert.equal(reply.code, GRPC_INVALID_ARGUMENT);
    assert.match(reply.details, /cannot decode ExportProfilesServiceRequest/);
    assert.equal(reply.status?.code, GRPC_INVALID_ARGUMENT);
    await stillServing();
  });

  it('gRPC: over the limit is RESOURCE_EXHAUSTED without RetryInfo, compressed or not', async () => {
    const plain = await grpcExport(serve.app.grpcAddress, Buffer.alloc(MAX_REQUEST_BYTES + 10));
    assert.equal(plain.code, GRPC_RESOURCE_EXHAUSTED);
    assert.match(plain.details, /larger than max/i);
    assert.equal(plain.status?.retryDelayMs, undefined);
    const bomb = await grpcExport(serve.app.grpcAddress, Buffer.alloc(16 * MAX_REQUEST_BYTES), {
      gzip: true,
    });
    assert.equal(bomb.code, GRPC_RESOURCE_EXHAUSTED);
    await stillServing();
  });

  it('gRPC: a good request is OK with an empty response; the malloc profile is stored too', async () => {
    const reply = await grpcExport(serve.app.grpcAddress, good, { gzip: true });
    assert.equal(reply.code, 0, reply.details);
    assert.deepEqual(decodeExportResponse(reply.response ?? Buffer.alloc(0)), {});
    assert.ok((await storedTotal(base, '?type=malloc/bytes')) >= MALLOC_EXPECTED.total);
  });
});
