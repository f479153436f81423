import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { CPU_EXPECTED, MALLOC_EXPECTED, T0, TRACE_ID_HEX } from '../support/sinks-fixtures.js';
import { postOtlp } from '../receiver/receiver-fixtures.js';
import type { TestServe } from './serve-fixtures.js';
import { getJson, startTestServe, storableSinkRequest, storedTotal } from './serve-fixtures.js';

const go = spawnSync('go', ['version'], { encoding: 'utf8' });
const T0_MS = Number(T0 / 1_000_000n);
const SEC_MS = 1000;

/**
 * The query API over a store holding the sinks' reference request (a CPU profile of 14 samples, a
 * malloc profile of 5120 bytes with one trace link), so every answer is checked against known values.
 */
describe('serve: query API', () => {
  let serve: TestServe;
  let base: string;
  let webDir: string;

  before(async () => {
    webDir = mkdtempSync(join(tmpdir(), 'igop-web-'));
    mkdirSync(join(webDir, 'assets'));
    writeFileSync(join(webDir, 'index.html'), '<!doctype html><title>profiles</title>');
    writeFileSync(join(webDir, 'assets', 'page.js'), 'console.log(1)');
    writeFileSync(join(webDir, 'assets', 'page.css'), 'body{}');
    serve = await startTestServe({ webDir });
    base = serve.app.httpUrl;
    const reply = await postOtlp(base, encodeExportRequest(storableSinkRequest()));
    assert.equal(reply.status, 200);
  });
  after(async () => {
    await serve.cleanup();
    rmSync(webDir, { recursive: true, force: true });
  });

  it('/healthz is ok once the store and both listeners are up', async () => {
    const res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'ok\n');
  });

  it('/api/profile-types lists both types with period and counts', async () => {
    const { body } = await getJson(base, '/api/profile-types');
    const types = body.types as { id: string; period: string; periodType: { type: string } }[];
    const cpu = types.find((t) => t.id === 'samples/count');
    assert.equal(cpu?.periodType.type, 'cpu');
    assert.equal(cpu?.period, '20408163');
    assert.ok(types.some((t) => t.id === 'malloc/bytes'));
  });

  it('/api/range and /api/labels', async () => {
    const range = await getJson(base, '/api/range');
    assert.equal(range.body.from, T0_MS);
    assert.ok((range.body.to as number) >= T0_MS + 2 * SEC_MS);
    const labels = (await getJson(base, '/api/labels')).body.labels as Record<string, { value: string }[]>;
    assert.deepEqual(
      labels['k8s.namespace.name']?.map((v) => v.value),
      ['shop'],
    );
    assert.ok(labels['thread.name']?.some((v) => v.value === 'worker-1'));
  });

  it('/api/flamegraph: the default type is CPU, totals exact, arrays plain, with unit', async () => {
    const { status, body } = await getJson(base, '/api/flamegraph');
    assert.equal(status, 200);
    assert.equal(body.rootTotal, String(CPU_EXPECTED.total));
    assert.equal(body.type, 'samples/count');
    assert.equal(body.unit, 'count');
    assert.ok(Array.isArray(body.name) && Array.isArray(body.parent));
    assert.equal((body.parent as number[])[0], -1);
    assert.ok((body.names as string[]).includes('parseJSON'));
    assert.equal(await storedTotal(base, '?type=malloc/bytes'), MALLOC_EXPECTED.total);
  });

  it('time windows, filters and trace ids select the right samples', async () => {
    assert.equal(await storedTotal(base, `?from=${T0_MS}&to=${T0_MS + SEC_MS}`), 8n);
    assert.equal(await storedTotal(base, `?from=${new Date(T0_MS + SEC_MS).toISOString()}`), 6n);
    assert.equal(await storedTotal(base, '?thread.name=worker-1'), CPU_EXPECTED.parseJsonSamples);
    assert.equal(await storedTotal(base, '?thread.name=worker-1&thread.name=worker-2'), 9n);
    assert.equal(await storedTotal(base, `?type=malloc/bytes&traceId=${TRACE_ID_HEX}`), 1024n);
    assert.equal(await storedTotal(base, `?type=malloc/bytes&traceId=${'0'.repeat(31)}1`), 0n);
  });

  it('/api/top, /api/timeline, /api/traces', async () => {
    const top = (await getJson(base, '/api/top?limit=3')).body.functions as { name: string; self: string }[];
    assert.ok(top.length <= 3);
    assert.ok(
      top.some((f) => f.name === 'parseJSON' && f.self === '4'),
      JSON.stringify(top),
    );
    const timeline = (await getJson(base, '/api/timeline?step=1000')).body;
    assert.equal(timeline.step, 1000);
    const points = timeline.points as [number, number][];
    assert.equal(
      points.reduce((a, [, v]) => a + v, 0),
      14,
    );
    assert.ok(points.every(([t]) => t >= T0_MS));
    const traces = (await getJson(base, '/api/traces?type=malloc/bytes')).body.traces as {
      traceId: string;
    }[];
    assert.deepEqual(
      traces.map((t) => t.traceId),
      [TRACE_ID_HEX],
    );
  });

  it('/api/diff compares two time ranges; /api/sandwich splits callers and callees', async () => {
    const diff = await getJson(
      base,
      `/api/diff?from=${T0_MS}&to=${T0_MS + SEC_MS}&diff.from=${T0_MS + SEC_MS}&diff.to=${T0_MS + 3 * SEC_MS}`,
    );
    assert.equal(diff.status, 200, JSON.stringify(diff.body));
    assert.equal(diff.body.rootTotal, '8');
    assert.equal(diff.body.rootTotalB, '6');
    assert.equal((diff.body.totalB as number[]).length, (diff.body.total as number[]).length);
    const sandwich = await getJson(base, '/api/sandwich?function=handleRequest');
    assert.equal(sandwich.status, 200);
    const callers = sandwich.body.callers as { names: string[] };
    const callees = sandwich.body.callees as { names: string[] };
    assert.ok(callers.names.includes('main'));
    assert.ok(callees.names.includes('parseJSON'));
  });

  it('bad parameters: 400 naming the parameter, the server keeps serving', async () => {
    const cases: [string, string, RegExp][] = [
      ['/api/flamegraph?from=yesterday', 'from', /from="yesterday" is not a time/],
      [
        '/api/flamegraph?type=cpu/nanoseconds',
        'type',
        /^type: unknown profile type "cpu\/nanoseconds"; stored types: .*samples\/count/,
      ],
      [
        '/api/flamegraph?k8s.namespce.name=shop',
        'k8s.namespce.name',
        /^k8s.namespce.name: no stored sample has the attribute "k8s.namespce.name"; known attributes: .*k8s.namespace.name/,
      ],
      ['/api/flamegraph?traceId=xyz', 'traceId', /not a trace id/],
      ['/api/flamegraph?maxNodes=0', 'maxNodes', /whole number/],
      ['/api/diff?diff.nope=1', 'diff.nope', /^diff\.nope: no stored sample has the attribute "nope"/],
      ['/api/sandwich', 'function', /function=NAME is required/],
      ['/api/timeline?step=-1', 'step', /whole number/],
    ];
    for (const [path, param, message] of cases) {
      const { status, body } = await getJson(base, path);
      assert.equal(status, 400, path);
      assert.equal(body.parameter, param, path);
      assert.match(body.error as string, message, path);
    }
    assert.equal((await getJson(base, '/api/nope')).status, 404);
    assert.equal(await storedTotal(base), CPU_EXPECTED.total);
  });

  it('/api/pprof is a gzipped pprof of the selection', async () => {
    const res = await fetch(`${base}/api/pprof?thread.name=worker-1`);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b]);
    assert.ok(gunzipSync(bytes).length > 0);
  });

  it(
    'go tool pprof reads /api/pprof straight from the URL',
    { skip: go.status === 0 ? false : 'go is not installed (Debian golang-go provides go tool pprof)' },
    async () => {
      const { stdout } = await promisify(execFile)(
        'go',
        ['tool', 'pprof', '-top', `${base}/api/pprof?k8s.namespace.name=shop`],
        {
          env: { ...process.env, HOME: tmpdir(), PPROF_TMPDIR: tmpdir() },
        },
      );
      assert.match(stdout, /parseJSON/);
      assert.match(stdout, /flat%/);
    },
  );

  it('/api/events: a `stored` notice after new data; Last-Event-ID resumes with the latest', async () => {
    const events = openEvents(`${base}/api/events`);
    try {
      await events.waitFor(/retry: \d+/);
      const reply = await postOtlp(base, encodeExportRequest(storableSinkRequest()));
      assert.equal(reply.status, 200);
      const text = await events.waitFor(/event: stored\ndata: (.*)\n/);
      const m = /id: (\d+)\nevent: stored\ndata: (.*)\n/.exec(text);
      assert.ok(m, text);
      const notice = JSON.parse(m[2]!) as { to: number; samples: number };
      assert.ok(notice.to >= T0_MS + 2 * SEC_MS);
      assert.ok(notice.samples > 0);
      const resumed = openEvents(`${base}/api/events`, String(Number(m[1]) - 1));
      try {
        assert.match(await resumed.waitFor(/event: stored/), new RegExp(`id: ${m[1]}`));
      } finally {
        resumed.close();
      }
    } finally {
      events.close();
    }
  });

  it('the page: index.html at /, assets with their content types, no way out of the bundle', async () => {
    const index = await fetch(`${base}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    const js = await fetch(`${base}/assets/page.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(
      (await fetch(`${base}/assets/page.css`)).headers.get('content-type'),
      'text/css; charset=utf-8',
    );
    for (const path of [
      '/../package.json',
      '/assets/%2e%2e/%2e%2e/package.json',
      '/%2e%2e%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/%00',
    ]) {
      assert.equal(await rawStatus(base, path), 404, path);
    }
    assert.equal((await fetch(`${base}/assets/missing.js`)).status, 404);
  });

  it('a missing page bundle is a 503 page saying to run npm run build; the API still works', async () => {
    const bare = await startTestServe({ webDir: join(tmpdir(), 'igop-no-such-bundle') });
    try {
      const res = await fetch(`${bare.app.httpUrl}/`);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build/);
      assert.equal((await getJson(bare.app.httpUrl, '/api/profile-types')).status, 200);
    } finally {
      await bare.cleanup();
    }
  });
});

/** The status of a request whose path is sent exactly as written (fetch would normalise `..`). */
function rawStatus(base: string, path: string): Promise<number> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path, method: 'GET' }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

function openEvents(url: string, lastEventId?: string) {
  let text = '';
  const waiters: (() => void)[] = [];
  const req = httpRequest(url, { headers: lastEventId ? { 'last-event-id': lastEventId } : {} }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      text += chunk;
      for (const w of waiters.splice(0)) w();
    });
  });
  req.on('error', () => undefined);
  req.end();
  return {
    close: () => req.destroy(),
    waitFor: async (pattern: RegExp, timeoutMs = 10_000): Promise<string> => {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline)
          throw new Error(`no ${pattern} in the event stream within ${timeoutMs} ms:\n${text}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
      return text;
    },
  };
}

describe('serve on loopback: DNS rebinding', () => {
  it('answers loopback Host names and refuses others with 403', async () => {
    const serve = await startTestServe();
    try {
      const url = new URL(serve.app.httpUrl);
      const status = (host: string): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = httpRequest(
            { host: url.hostname, port: url.port, path: '/api/profile-types', headers: { host } },
            (res) => {
              res.resume();
              resolve(res.statusCode ?? 0);
            },
          );
          req.on('error', reject);
          req.end();
        });
      for (const host of [
        `127.0.0.1:${url.port}`,
        `localhost:${url.port}`,
        `[::1]:${url.port}`,
        'localhost',
      ]) {
        assert.equal(await status(host), 200, host);
      }
      assert.equal(await status(`evil.example:${url.port}`), 403);
      assert.equal(await status('127.0.0.1.evil.example'), 403);
    } finally {
      await serve.cleanup();
    }
  });
});
