import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { silentLogger } from '../../src/observability/logger.js';
import { INT64_MAX } from '../../src/profiles/model/int64.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import type { ProfileStore } from '../../src/store/profile-store.js';
import { InvalidSelectionError } from '../../src/store/store-errors.js';
import { cloneRequest } from '../support/encoding-fixtures.js';
import { columnTotal, goPprof, goToolSkipReason, sampleStack } from '../support/sinks-pprof.js';
import type { ExpectedSample } from './store-fixtures.js';
import {
  captureRequests,
  expectedSamples,
  SECOND,
  selection,
  sumsByPath,
  T0,
  tempDir,
  treeByPath,
} from './store-fixtures.js';

const TRACE_A = '0af7651916cd43dd8448eb211c80319c';
const SPAN_A1 = 'b7ad6b7169203331';
const SPAN_A2 = '00f067aa0ba902b7';
const TRACE_B = '4bf92f3577b34da6a3ce929d0e0e4736';

/** Links the first profile's samples of `request` to trace A (two spans) and the second's to trace B. */
function withLinks(request: ExportProfilesServiceRequest): ExportProfilesServiceRequest {
  const d = request.dictionary;
  const link = (trace: string, span: string): number => {
    d.linkTable.push({ traceId: Buffer.from(trace, 'hex'), spanId: Buffer.from(span, 'hex') });
    return d.linkTable.length - 1;
  };
  const a1 = link(TRACE_A, SPAN_A1);
  const a2 = link(TRACE_A, SPAN_A2);
  const b = link(TRACE_B, SPAN_A1);
  const profiles = request.resourceProfiles.flatMap((rp) => rp.scopeProfiles.flatMap((sp) => sp.profiles));
  profiles[0]!.samples.forEach((s, i) => (s.linkIndex = i % 2 === 0 ? a1 : a2));
  for (const s of profiles[1]!.samples) s.linkIndex = b;
  return request;
}

function sum(samples: readonly ExpectedSample[], keep: (s: ExpectedSample) => boolean): bigint {
  return samples.filter(keep).reduce((a, s) => a + s.value, 0n);
}

function assertTreeMatches(
  tree: Awaited<ReturnType<ProfileStore['flameGraph']>>,
  expected: Map<string, bigint>,
  what: string,
): void {
  const got = treeByPath(tree);
  assert.equal(got.self.size, expected.size, `${what}: one self-valued node per distinct stack`);
  for (const [path, value] of expected)
    assert.equal(got.self.get(path), Number(value), `${what}: self of ${path}`);
  let root = 0n;
  for (const v of expected.values()) root += v;
  assert.equal(tree.rootTotal, root.toString(), `${what}: root total`);
  assert.equal(tree.total[0], Number(root));
  // Totals are sums of the stacks below, computed independently from the paths.
  for (const [path, total] of got.total) {
    let want = 0n;
    for (const [p, v] of expected) if (p === path || p.startsWith(`${path};`)) want += v;
    assert.equal(total, Number(want), `${what}: total of ${path}`);
  }
}

describe('DuckDB profile store over the bundled capture', () => {
  const dir = tempDir();
  const requests = captureRequests(4);
  withLinks(requests[0]!);
  const samples = expectedSamples(requests);
  let store: ProfileStore;

  before(async () => {
    store = await openProfileStore(dir.path, { logger: silentLogger });
    for (const r of requests) {
      const result = await store.ingest(r);
      assert.equal(result.rejectedProfiles, 0);
    }
  });
  after(async () => {
    await store.close();
    dir.remove();
  });

  it('reports the CPU profile type with its period and stored row count', async () => {
    const types = await store.profileTypes();
    assert.equal(types.length, 1);
    assert.equal(types[0]!.id, 'samples/count');
    assert.deepEqual(types[0]!.periodType, { type: 'cpu', unit: 'nanoseconds' });
    assert.ok(BigInt(types[0]!.period) > 0n);
    assert.ok(Number(types[0]!.samples) > 0 && Number(types[0]!.samples) <= samples.length);
  });

  it('flame graph: self per stack equals the sum of sample values per stack in the requests', async () => {
    const tree = await store.flameGraph(selection());
    assertTreeMatches(tree, sumsByPath(samples), 'unfiltered');
    assert.equal(tree.truncated, 0);
    assert.equal(tree.parent[0], -1);
    for (let i = 1; i < tree.parent.length; i++) assert.ok(tree.parent[i]! < i, 'parent before child');
    // Pre-order: a node's subtree is contiguous, so every node's parent is on the path of the previous node.
    const frameTypes = new Set(tree.frameType.slice(1));
    assert.ok(
      frameTypes.has('kernel') && frameTypes.has('native'),
      `frame types ${[...frameTypes].join(',')}`,
    );
  });

  it('filters: one value, OR within a key, AND across keys, sample attributes, time range', async () => {
    const cases: { filters: Record<string, string[]>; from?: bigint; to?: bigint }[] = [
      { filters: { 'service.name': ['checkout'] } },
      { filters: { 'service.name': ['checkout', 'frontend'] } },
      { filters: { 'k8s.namespace.name': ['shop'], 'k8s.node.name': ['aks-nodepool1-24318594-vmss000000'] } },
      { filters: { 'thread.name': ['http-nio-1', 'http-nio-2'] } },
      { filters: { 'service.name': ['ledger'], 'thread.name': ['http-nio-1'] } },
      { filters: {}, from: T0 + 2n * SECOND, to: T0 + 7n * SECOND },
      { filters: { 'service.name': ['no-such-service'] } },
    ];
    for (const c of cases) {
      const keep = (s: ExpectedSample): boolean =>
        Object.entries(c.filters).every(([k, values]) => values.includes(s.labels.get(k) ?? '\u0000')) &&
        (c.from === undefined || s.time >= c.from) &&
        (c.to === undefined || s.time < c.to);
      const expected = sumsByPath(samples, keep);
      const tree = await store.flameGraph(selection(c.filters, { from: c.from, to: c.to }));
      assertTreeMatches(
        tree,
        expected,
        JSON.stringify(c, (_, v: unknown) => (typeof v === 'bigint' ? `${v}` : v)),
      );
    }
  });

  it('rejects an unknown filter key, profile type or malformed trace id with the parameter named', async () => {
    await assert.rejects(store.flameGraph(selection({ 'no.such.key': ['x'] })), (err: unknown) => {
      assert.ok(err instanceof InvalidSelectionError);
      assert.equal(err.parameter, 'no.such.key');
      assert.match(err.message, /known attributes: .*service\.name/);
      return true;
    });
    await assert.rejects(
      store.flameGraph(selection({}, { type: 'alloc/bytes' })),
      /unknown profile type "alloc\/bytes"; stored types: samples\/count/,
    );
    await assert.rejects(store.flameGraph(selection({}, { traceId: 'xyz' })), /traceId "xyz" must be 32 hex/);
  });

  it('label values: every resource and sample attribute, counts honouring the other keys only', async () => {
    const labels = await store.labelValues(selection({ 'service.name': ['checkout'] }));
    for (const key of [
      'service.name',
      'k8s.node.name',
      'k8s.namespace.name',
      'k8s.deployment.name',
      'k8s.pod.name',
      'k8s.container.name',
      'process.executable.name',
      'process.pid',
      'thread.name',
    ])
      assert.ok(labels[key] && labels[key].length > 0, `labels has ${key}`);
    // service.name's own filter does not narrow its picker; other keys are narrowed to checkout's values.
    const services = new Set(samples.map((s) => s.labels.get('service.name')));
    assert.deepEqual(new Set(labels['service.name']!.map((v) => v.value)), services);
    const checkoutPods = new Set(
      samples
        .filter((s) => s.labels.get('service.name') === 'checkout')
        .map((s) => s.labels.get('k8s.pod.name')),
    );
    assert.deepEqual(new Set(labels['k8s.pod.name']!.map((v) => v.value)), checkoutPods);
  });

  it('top functions: self at the leaf, total once per stack even when the function recurses', async () => {
    const top = await store.topFunctions(selection(), 1000);
    const self = new Map<string, bigint>();
    const total = new Map<string, bigint>();
    let recursive = 0;
    for (const s of samples) {
      const frames = s.path.split(';');
      self.set(frames.at(-1)!, (self.get(frames.at(-1)!) ?? 0n) + s.value);
      const distinct = new Set(frames);
      if (distinct.size < frames.length) recursive++;
      for (const f of distinct) total.set(f, (total.get(f) ?? 0n) + s.value);
    }
    assert.ok(recursive > 0, 'the capture has recursive stacks (the case under test)');
    assert.equal(top.length, total.size);
    for (const f of top) {
      assert.equal(f.self, (self.get(f.name) ?? 0n).toString(), `self of ${f.name}`);
      assert.equal(f.total, total.get(f.name)!.toString(), `total of ${f.name}`);
    }
    for (let i = 1; i < top.length; i++)
      assert.ok(BigInt(top[i - 1]!.self) >= BigInt(top[i]!.self), 'sorted by self');
    assert.equal((await store.topFunctions(selection(), 3)).length, 3);
  });

  it('timeline: buckets sum to the selection, empty buckets are zero', async () => {
    const { stepNs, points } = await store.timeline(
      selection({}, { from: T0, to: T0 + 20n * SECOND }),
      SECOND,
    );
    assert.equal(stepNs, SECOND);
    assert.equal(points.length, 20);
    for (const p of points)
      assert.equal(
        p.value,
        sum(samples, (s) => s.time >= p.t && s.time < p.t + SECOND).toString(),
        `bucket ${p.t}`,
      );
    assert.equal(points.at(-1)!.value, '0');
    const auto = await store.timeline(selection({ 'service.name': ['checkout'] }));
    const autoTotal = auto.points.reduce((a, p) => a + BigInt(p.value), 0n);
    assert.equal(
      autoTotal,
      sum(samples, (s) => s.labels.get('service.name') === 'checkout'),
    );
  });

  it('diff: both selections over the same nodes, each matching its own sums', async () => {
    const a = selection({}, { from: T0, to: T0 + 6n * SECOND });
    const b = selection({}, { from: T0 + 6n * SECOND, to: T0 + 13n * SECOND });
    const d = await store.diff(a, b);
    const inA = (s: ExpectedSample): boolean => s.time < T0 + 6n * SECOND;
    assertTreeMatches(d, sumsByPath(samples, inA), 'diff A');
    assertTreeMatches(
      { ...d, total: d.totalB, self: d.selfB, rootTotal: d.rootTotalB },
      sumsByPath(samples, (s) => !inA(s)),
      'diff B',
    );
  });

  it('sandwich: callers and callees of a function, computed before truncation', async () => {
    const fn = 'java.lang.String.hashCode';
    const { callers, callees } = await store.sandwich(selection(), fn, { maxNodes: 5 });
    const expected = sum(samples, (s) => s.path.split(';').includes(fn));
    assert.equal(callers.rootTotal, expected.toString());
    assert.equal(callees.rootTotal, expected.toString());
    assert.equal(callers.names[callers.name[0]!], fn);
    assert.ok(callers.name.length <= 5 && callers.truncated > 0, 'truncated after the totals were computed');
    // Direct callers of the outermost call, from the requests.
    const direct = new Map<string, bigint>();
    for (const s of samples) {
      const frames = s.path.split(';');
      const at = frames.indexOf(fn);
      if (at > 0) direct.set(frames[at - 1]!, (direct.get(frames[at - 1]!) ?? 0n) + s.value);
    }
    const full = await store.sandwich(selection(), fn);
    for (let i = 1; i < full.callers.name.length; i++) {
      if (full.callers.parent[i] !== 0) continue;
      const name = full.callers.names[full.callers.name[i]!]!;
      assert.equal(full.callers.total[i], Number(direct.get(name)), `caller ${name}`);
    }
  });

  it('trace link: a trace id (and span id) selects exactly its samples', async () => {
    const traces = await store.traces(selection());
    assert.deepEqual(
      traces.map((t) => [t.traceId, t.spanIds]).sort(),
      [
        [TRACE_A, 2],
        [TRACE_B, 1],
      ].sort(),
    );
    const first = requests[0]!;
    const firstProfiles = first.resourceProfiles.flatMap((rp) =>
      rp.scopeProfiles.flatMap((sp) => sp.profiles),
    );
    const valueOf = (pi: number, keep: (i: number) => boolean): bigint =>
      firstProfiles[pi]!.samples.reduce(
        (a, s, i) => (keep(i) ? a + s.values.reduce((x, y) => x + y, 0n) : a),
        0n,
      );
    const traceA = await store.flameGraph(selection({}, { traceId: TRACE_A }));
    assert.equal(traceA.rootTotal, valueOf(0, () => true).toString());
    const spanA1 = await store.flameGraph(selection({}, { traceId: TRACE_A, spanId: SPAN_A1 }));
    assert.equal(spanA1.rootTotal, valueOf(0, (i) => i % 2 === 0).toString());
    assert.equal(traces.find((t) => t.traceId === TRACE_B)!.samples, valueOf(1, () => true).toString());
  });

  it('pprof: go tool pprof reads it; totals, stacks and labels match the requests', async (t) => {
    const sel = selection({ 'service.name': ['checkout'] });
    const bytes = await store.pprof(sel);
    const profile = Profile.decode(gunzipSync(bytes));
    const expected = sum(samples, (s) => s.labels.get('service.name') === 'checkout');
    assert.equal(columnTotal(profile, 0), expected);
    const byStack = new Map<string, bigint>();
    for (const s of profile.sample) {
      const key = sampleStack(profile, s).reverse().join(';');
      byStack.set(key, (byStack.get(key) ?? 0n) + BigInt(s.value[0]!));
    }
    assert.deepEqual(
      byStack,
      sumsByPath(samples, (s) => s.labels.get('service.name') === 'checkout'),
    );
    const skip = goToolSkipReason();
    if (skip) return t.skip(skip);
    const file = join(dir.path, 'checkout.pb.gz');
    writeFileSync(file, bytes);
    const raw = goPprof(['-raw', file]);
    assert.match(raw, /samples\/count cpu\/nanoseconds\[dflt\]/);
    const rawTotal = [...raw.matchAll(/^\s+(\d+)\s+\d+: /gm)].reduce((a, m) => a + BigInt(m[1]!), 0n);
    assert.equal(rawTotal, expected);
    const top = goPprof(['-top', '-sample_index=samples', file]);
    assert.match(top, new RegExp(`Showing nodes accounting for ${expected}, 100% of ${expected} total`));
  });

  it('stats: rows, bytes on disk, oldest and newest sample', async () => {
    const stats = await store.stats();
    const times = samples.map((s) => s.time);
    assert.equal(
      stats.oldest,
      times.reduce((a, b) => (a < b ? a : b)),
    );
    assert.equal(
      stats.newest,
      times.reduce((a, b) => (a > b ? a : b)),
    );
    assert.ok(stats.bytes > 0);
    assert.equal(stats.samples, (await store.profileTypes())[0]!.samples);
    assert.deepEqual(await store.timeRange(), { from: stats.oldest, to: stats.newest + 1n });
  });
});

describe('DuckDB profile store: values at the int64 limit', () => {
  it('rows of one key whose sum passes int64 are stored apart and add up exactly', async () => {
    const dir = tempDir();
    const store = await openProfileStore(dir.path, { logger: silentLogger });
    try {
      // Every resource twice (one series each), every sample at INT64_MAX - 1: each pair meets in one row key.
      const request = cloneRequest(captureRequests(1)[0]!);
      request.resourceProfiles.push(...cloneRequest(request).resourceProfiles);
      let sent = 0n;
      for (const rp of request.resourceProfiles)
        for (const sp of rp.scopeProfiles)
          for (const p of sp.profiles)
            for (const s of p.samples) {
              s.values = s.values.map(() => INT64_MAX - 1n);
              sent += BigInt(s.values.length) * (INT64_MAX - 1n);
            }
      const result = await store.ingest(request);
      assert.equal(result.rejectedProfiles, 0);
      const tree = await store.flameGraph(selection());
      assert.equal(tree.rootTotal, sent.toString());
      assert.ok(sent > 2n ** 64n, 'the total is far past int64');
    } finally {
      await store.close();
      dir.remove();
    }
  });
});
