import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import { DictionaryBuilder } from '../../src/profiles/request/dictionary-builder.js';
import type { ExportProfilesServiceRequest, Profile, Sample } from '../../src/profiles/model/otlp-model.js';
import type { DuckDBProfileStore } from '../../src/store/duckdb-profile-store.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { InvalidRequestError } from '../../src/store/store-errors.js';
import { goPprof, goToolSkipReason } from '../support/sinks-pprof.js';
import { captureRequests, expectedSamples, selection, T0, tempDir } from './store-fixtures.js';

function profilesOf(
  request: ExportProfilesServiceRequest,
): ExportProfilesServiceRequest['resourceProfiles'][number]['scopeProfiles'][number]['profiles'] {
  return request.resourceProfiles.flatMap((rp) => rp.scopeProfiles.flatMap((sp) => sp.profiles));
}

function totalOf(request: ExportProfilesServiceRequest, skip?: (pi: number) => boolean): bigint {
  return profilesOf(request).reduce(
    (a, p, pi) =>
      skip?.(pi) ? a : a + p.samples.reduce((x, s) => x + s.values.reduce((u, v) => u + v, 0n), 0n),
    0n,
  );
}

/**
 * Two allocation samples of 2^60 + 1 and 2^60 + 3 bytes on stacks main;alloc and main;grow: every total
 * above main is beyond 2^53, where a double would round.
 */
function bigValuesRequest(): ExportProfilesServiceRequest {
  const b = new DictionaryBuilder();
  const native = b.attribute('profile.frame.type', { stringValue: 'native' });
  const frame = (name: string): number =>
    b.location(0, 0n, [{ functionIndex: b.function(name), line: 0n, column: 0n }], [native]);
  const main = frame('main');
  const sample = (leaf: string, value: bigint): Sample => ({
    stackIndex: b.stack([frame(leaf), main]),
    attributeIndices: [],
    linkIndex: 0,
    values: [value],
    timestampsUnixNano: [],
  });
  const samples = [sample('alloc', 2n ** 60n + 1n), sample('grow', 2n ** 60n + 3n)];
  const profile: Profile = {
    sampleType: { typeStrindex: b.string('alloc_space'), unitStrindex: b.string('bytes') },
    samples,
    timeUnixNano: T0,
    durationNano: 1_000_000_000n,
    period: 0n,
    attributeIndices: [],
  };
  return {
    resourceProfiles: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'big' } }] },
        scopeProfiles: [{ scope: { name: 'test', version: '1' }, profiles: [profile] }],
      },
    ],
    dictionary: b.build(),
  };
}

describe('store ingest: what is accepted, rejected, and stored exactly', () => {
  const dir = tempDir();
  let store: DuckDBProfileStore;
  before(async () => {
    store = await openProfileStore(dir.path, { logger: silentLogger });
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  it('an index out of range in the dictionary rejects the whole request, naming the field', async () => {
    const [request] = captureRequests(13);
    request!.dictionary.locationTable[1]!.mappingIndex = 999;
    await assert.rejects(store.ingest(request!), (err: unknown) => {
      assert.ok(err instanceof InvalidRequestError);
      assert.match(err.message, /dictionary\.location_table\[1\]\.mapping_index: index 999 out of range/);
      return true;
    });
    assert.equal((await store.stats()).samples, '0', 'nothing stored');
  });

  it('a profile with a bad index is rejected alone: partial success with counts and the reason', async () => {
    const [request] = captureRequests(13);
    const profiles = profilesOf(request!);
    profiles[1]!.samples[0]!.stackIndex = 10_000;
    const result = await store.ingest(request!);
    assert.equal(result.rejectedProfiles, 1);
    assert.equal(result.acceptedProfiles, profiles.length - 1);
    assert.equal(
      result.samples,
      profiles.reduce((a, p, i) => (i === 1 ? a : a + p.samples.length), 0),
    );
    assert.match(
      result.errorMessage ?? '',
      /profiles\[\d+\]\.samples\[0\]\.stack_index: index 10000 out of range/,
    );
    assert.equal(
      (await store.flameGraph(selection())).rootTotal,
      totalOf(request!, (pi) => pi === 1).toString(),
    );
  });

  it('a request whose every profile is bad is rejected as a whole', async () => {
    const [request] = captureRequests(13);
    for (const p of profilesOf(request!)) p.samples[0]!.linkIndex = 77;
    await assert.rejects(store.ingest(request!), InvalidRequestError);
  });

  it('accepts what a Collector accepts: empty requests, unreferenced and duplicate dictionary entries', async () => {
    assert.deepEqual(
      await store.ingest({ resourceProfiles: [], dictionary: captureRequests(13)[0]!.dictionary }),
      { acceptedProfiles: 0, rejectedProfiles: 0, samples: 0 },
    );
    const [request] = captureRequests(13);
    request!.dictionary.stringTable.push('never referenced', 'never referenced');
    const result = await store.ingest(request!);
    assert.equal(result.rejectedProfiles, 0);
  });

  it('sums beyond 2^53 stay exact: root total, top functions, pprof (go tool pprof -raw)', async (t) => {
    await store.ingest(bigValuesRequest());
    const sel = selection({}, { type: 'alloc_space/bytes' });
    const types = (await store.profileTypes()).map((p) => p.id).sort();
    assert.deepEqual(types, ['alloc_space/bytes', 'samples/count']);
    const exact = 2n ** 61n + 4n;
    const tree = await store.flameGraph(sel);
    assert.equal(tree.rootTotal, exact.toString());
    const top = await store.topFunctions(sel);
    assert.deepEqual(
      top.map((f) => [f.name, f.self, f.total]),
      [
        ['grow', (2n ** 60n + 3n).toString(), (2n ** 60n + 3n).toString()],
        ['alloc', (2n ** 60n + 1n).toString(), (2n ** 60n + 1n).toString()],
        ['main', '0', exact.toString()],
      ],
    );
    assert.equal(
      (await store.timeline(sel)).points.reduce((a, p) => a + BigInt(p.value), 0n),
      exact,
    );
    const skip = goToolSkipReason();
    if (skip) return t.skip(skip);
    const file = join(dir.path, 'big.pb.gz');
    writeFileSync(file, await store.pprof(sel));
    const raw = goPprof(['-raw', file]);
    const samplesSection = raw.slice(raw.indexOf('Samples:'), raw.indexOf('Locations'));
    const values = [...samplesSection.matchAll(/^\s+(\d+): /gm)].map((m) => BigInt(m[1]!)).sort();
    assert.deepEqual(values, [2n ** 60n + 1n, 2n ** 60n + 3n]);
  });

  it('the capture fixture holds enough samples for the checks above to compare real data', () => {
    // Guard for the fixtures themselves: the capture has samples, so the checks above compare real data.
    assert.ok(expectedSamples(captureRequests(13)).length > 100);
  });
});
