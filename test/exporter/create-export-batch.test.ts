import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { batchFromBytes, batchFromEncoded } from '../../src/exporter/create-export-batch.js';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { countRequest } from '../../src/profiles/model/otlp-model.js';
import type { EncodedRequest } from '../../src/profiles/request/request-splitter.js';
import { cloneRequest, completeRequest } from '../support/encoding-fixtures.js';
import { forceGc } from '../support/force-gc.js';

function encodedPiece(): EncodedRequest {
  const request = completeRequest();
  return { request, bytes: encodeExportRequest(request), ...countRequest(request) };
}

describe('batchFromEncoded', () => {
  it('hands out the generated model while something else still holds it', () => {
    const piece = encodedPiece();
    const batch = batchFromEncoded(piece, 'b1');
    assert.equal(batch.request(), piece.request);
    assert.equal(batch.id, 'b1');
    assert.equal(batch.bytes, piece.bytes);
    assert.deepEqual([batch.profiles, batch.samples], [piece.profiles, piece.samples]);
  });

  it('does not keep the model alive: once collected, request() decodes an equal one from the bytes', async () => {
    const expected = cloneRequest(completeRequest());
    let piece: EncodedRequest | undefined = encodedPiece();
    const model = new WeakRef(piece.request);
    const batch = batchFromEncoded(piece);
    piece = undefined;
    await forceGc();
    assert.equal(model.deref(), undefined, 'a queued batch must not pin its ~13x larger model');
    const decoded = batch.request();
    assert.deepEqual(decoded, expected);
    assert.equal(batch.request(), decoded, 'decoded once, then cached');
  });
});

describe('batchFromBytes', () => {
  it('takes the counts it is given (a queue file header) and decodes the model once, on demand', () => {
    const expected = cloneRequest(completeRequest());
    const bytes = encodeExportRequest(completeRequest());
    const batch = batchFromBytes(bytes, 'replayed', { profiles: 7, samples: 9 });
    assert.deepEqual([batch.id, batch.profiles, batch.samples], ['replayed', 7, 9]);
    assert.equal(batch.bytes, bytes);
    const decoded = batch.request();
    assert.deepEqual(decoded, expected);
    assert.equal(batch.request(), decoded, 'decoded once, then cached');
  });

  it('counts the request itself when no counts are given', () => {
    const request = completeRequest();
    const batch = batchFromBytes(encodeExportRequest(request), 'file');
    assert.deepEqual(
      [batch.profiles, batch.samples],
      [countRequest(request).profiles, countRequest(request).samples],
    );
  });
});
