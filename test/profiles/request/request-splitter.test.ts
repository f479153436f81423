import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROFILE_CPU_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import { Counters } from '../../../src/observability/counters.js';
import { decodeExportRequest } from '../../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import { countRequest } from '../../../src/profiles/model/otlp-model.js';
import { generateRequest } from '../../../src/profiles/request/request-generator.js';
import { splitRequest } from '../../../src/profiles/request/request-splitter.js';
import { ResourceResolver } from '../../../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../../../src/profiles/aggregation/sample-aggregator.js';
import { assertConforms } from '../../../src/profiles/validation/conformance-validator.js';
import {
  BUNDLED_CAPTURE_PATH,
  batchOf,
  DEFAULT_RESOURCE_CONFIG,
  exampleEmissions,
} from '../../support/profiles-fixtures.js';

const T0 = 1_763_800_000_000_000_000n;

function bigRequest(): ExportProfilesServiceRequest {
  const resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
  const agg = new SampleAggregator({ resources, counters: new Counters(), exporter: 't' });
  exampleEmissions(BUNDLED_CAPTURE_PATH).forEach((rows, i) =>
    agg.add(
      batchOf(PROFILE_CPU_SPEC, rows, T0 + BigInt(i) * 1_000_000_000n, T0 + BigInt(i + 1) * 1_000_000_000n),
    ),
  );
  const request = generateRequest(agg.drain(), { resources, sampleMerge: 'flush' });
  assert.ok(request);
  return request;
}

/** Every sample with its resolved stack (function names / addresses), resource and value: what must survive a split. */
function sampleFacts(request: ExportProfilesServiceRequest): string[] {
  const d = request.dictionary;
  const facts: string[] = [];
  for (const rp of request.resourceProfiles) {
    const pid = rp.resource?.attributes.find((a) => a.key === 'process.pid')?.value;
    for (const sp of rp.scopeProfiles) {
      for (const p of sp.profiles) {
        for (const s of p.samples) {
          const frames = (d.stackTable[s.stackIndex]?.locationIndices ?? []).map((li) => {
            const loc = d.locationTable[li];
            const fn = loc?.lines[0] ? d.functionTable[loc.lines[0].functionIndex] : undefined;
            return fn
              ? d.stringTable[fn.nameStrindex]
              : `${d.stringTable[d.mappingTable[loc?.mappingIndex ?? 0]?.filenameStrindex ?? 0]}@${loc?.address}`;
          });
          const attrs = s.attributeIndices
            .map((a) => `${d.stringTable[d.attributeTable[a]?.keyStrindex ?? 0]}`)
            .join(',');
          facts.push(
            `${JSON.stringify(pid, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))}|${frames.join(';')}|${attrs}|${s.values.join(',')}|${s.timestampsUnixNano.join(',')}`,
          );
        }
      }
    }
  }
  return facts.sort();
}

describe('splitRequest', () => {
  const request = bigRequest();
  const full = encodeExportRequest(request);

  it('returns the request itself when it fits', () => {
    const { pieces } = splitRequest(request, { maxRequestBytes: full.length, maxSamplesPerProfile: 16000 });
    assert.equal(pieces.length, 1);
    assert.equal(pieces[0]?.request, request);
    assert.deepEqual(pieces[0]?.bytes, full);
  });

  it('cuts under the byte limit with fresh minimal dictionaries, losing and duplicating nothing', () => {
    const limit = Math.floor(full.length / 5);
    const { pieces, droppedSamples } = splitRequest(request, {
      maxRequestBytes: limit,
      maxSamplesPerProfile: 16000,
    });
    assert.equal(droppedSamples, 0);
    assert.ok(pieces.length >= 5, `expected at least 5 pieces, got ${pieces.length}`);
    const facts: string[] = [];
    for (const piece of pieces) {
      assert.ok(piece.bytes.length <= limit, `piece of ${piece.bytes.length} bytes exceeds ${limit}`);
      // The bytes are the piece's own encoding, and it passes every rule incl. orphans: minimal dictionary.
      const decoded = decodeExportRequest(piece.bytes);
      assertConforms(decoded);
      assert.equal(countRequest(decoded).samples, piece.samples);
      facts.push(...sampleFacts(decoded));
    }
    assert.deepEqual(facts.sort(), sampleFacts(request));
  });

  it('never gives a Profile more samples than max_samples_per_profile', () => {
    const max = 7;
    const { pieces } = splitRequest(request, {
      maxRequestBytes: 64 * 1024 * 1024,
      maxSamplesPerProfile: max,
    });
    const facts: string[] = [];
    const ids = new Set<string>();
    for (const piece of pieces) {
      assertConforms(piece.request);
      for (const rp of piece.request.resourceProfiles) {
        for (const sp of rp.scopeProfiles) {
          for (const p of sp.profiles) {
            assert.ok(p.samples.length <= max);
            ids.add(Buffer.from(p.profileId ?? []).toString('hex'));
          }
        }
      }
      facts.push(...sampleFacts(piece.request));
    }
    assert.equal(
      ids.size,
      pieces.reduce((n, p) => n + p.profiles, 0),
      'every piece of a cut profile has its own profile id',
    );
    assert.deepEqual(facts.sort(), sampleFacts(request));
  });

  it('drops and counts only a sample that alone exceeds the limit', () => {
    const { pieces, droppedSamples } = splitRequest(request, {
      maxRequestBytes: 200,
      maxSamplesPerProfile: 16000,
    });
    assert.equal(pieces.length, 0);
    assert.equal(droppedSamples, countRequest(request).samples);
  });
});
