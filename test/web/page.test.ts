import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import type { Browser, Page } from 'playwright-core';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import type { FlameTreeJson } from '../../web/api-types.js';
import { formatShare } from '../../web/format-value.js';
import { postOtlp } from '../receiver/receiver-fixtures.js';
import type { TestServe } from '../serve/serve-fixtures.js';
import { startTestServe, storableSinkRequest } from '../serve/serve-fixtures.js';
import { runCli } from '../support/cli-harness.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';
import { TRACE_ID_HEX } from '../support/sinks-fixtures.js';
import { readPprofFile } from '../support/sinks-pprof.js';
import { chromiumMissing, launchChromium } from './chromium.js';

/**
 * The page in real Chromium against a real `serve` fed by the real exporter (`export` replaying the
 * bundled capture over OTLP/gRPC). Every assertion compares what the page shows (its read-only
 * `window.__flame` hook and DOM text) with the API's own answer for the same selection.
 */

const ROOT = new URL('../..', import.meta.url).pathname;
const SHOTS = join(ROOT, 'test-output', 'web');
const NAMESPACE = 'k8s.namespace.name';
const go = spawnSync('go', ['version'], { encoding: 'utf8' });
const missing = chromiumMissing();
if (missing) console.log(`test/web/page.test.ts skipped: ${missing}`);

/** What `window.__flame.snapshot()` returns (web/page-app.ts). */
interface Snapshot {
  view: string;
  type: string | null;
  from: number | null;
  to: number | null;
  filters: Record<string, string[]>;
  diffFilters: Record<string, string[]>;
  diffFrom: number | null;
  diffTo: number | null;
  traceId: string | null;
  zoomPath: string[];
  focusPath: string[];
  focusTotal: number | null;
  rootTotal: number | null;
  rootTotalB: number | null;
  nodes: number;
  drawn: number;
  labels: number;
  search: string;
  searchText: string;
  matchNodes: number;
  matchTotal: number | null;
  highlight: string | null;
  topNames: string[];
  topSort: string;
  sandwichFn: string | null;
  callersNodes: number;
  calleesNodes: number;
  calleesDrawn: number;
  callersDrawn: number;
  timelinePoints: number;
  live: string;
  liveRefreshes: number;
  graphLoads: number;
  pprofHref: string;
  errors: string[];
  summary: string;
}

/** Where a frame is drawn, page coordinates (window.__flame.frameRect). */
interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Sum of a pprof's `samples` values (the CPU type's count). */
function samplesTotal(profile: Profile): bigint {
  const index = profile.sampleType.findIndex(
    (t) => profile.stringTable.strings[Number(t.type)] === 'samples',
  );
  assert.ok(index >= 0, 'the pprof has a samples value');
  return profile.sample.reduce((sum, sample) => sum + BigInt(sample.value[index] ?? 0), 0n);
}

describe('page: the flame-graph page in Chromium against a real serve', { skip: missing ?? false }, () => {
  let serve: TestServe;
  let base: string;
  let browser: Browser;
  let page: Page;

  async function feedCapture(): Promise<void> {
    const res = await runCli([
      'export',
      '--input',
      BUNDLED_CAPTURE_PATH,
      '--endpoint',
      `http://${serve.app.grpcAddress}`,
      '--protocol',
      'grpc',
      '--insecure',
    ]);
    assert.equal(res.code, 0, res.stderr);
  }

  async function api<T>(path: string): Promise<T> {
    const res = await fetch(base + path);
    assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  }

  const snapshot = (): Promise<Snapshot> => page.evaluate<Snapshot>('window.__flame.snapshot()');
  const settle = async (): Promise<Snapshot> => {
    await page.evaluate('window.__flame.idle()');
    return snapshot();
  };
  const open = async (query = ''): Promise<Snapshot> => {
    await page.goto(`${base}/${query ? `?${query}` : ''}`);
    await page.waitForFunction('window.__flame && window.__flame.snapshot().graphLoads > 0');
    return settle();
  };
  const shot = (name: string): Promise<Buffer> => page.screenshot({ path: join(SHOTS, `${name}.png`) });
  /** The page's query string without the ui.* keys, as the API takes it. */
  const apiQuery = (): string => {
    const params = new URLSearchParams(new URL(page.url()).search);
    for (const key of [...params.keys()]) if (key.startsWith('ui.')) params.delete(key);
    return params.toString();
  };
  /** Clicks the middle of the first drawn frame with this name. */
  async function clickFrame(name: string, which = 'flame'): Promise<void> {
    const rect = await page.evaluate<Rect | null>(
      `window.__flame.frameRect(${JSON.stringify(name)}, '${which}')`,
    );
    assert.ok(rect, `frame ${name} is drawn`);
    await page.mouse.click(rect.x + rect.w / 2, rect.y + rect.h / 2);
  }
  /** The heaviest child of the root in the API's tree for a query. */
  async function widestRootChild(query: string): Promise<{ name: string; total: number }> {
    const tree = await api<FlameTreeJson>(`/api/flamegraph?${query}`);
    let best = -1;
    for (let i = 1; i < tree.parent.length; i++) {
      if (tree.parent[i] === 0 && (best < 0 || tree.total[i]! > tree.total[best]!)) best = i;
    }
    return { name: tree.names[tree.name[best]!]!, total: tree.total[best]! };
  }

  /** A mouse drag across the timeline between two fractions of its width. */
  async function dragTimeline(from: number, to: number): Promise<void> {
    const box = (await page.locator('#timeline').boundingBox())!;
    await page.mouse.move(box.x + box.width * from, box.y + 30);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * to, box.y + 30, { steps: 5 });
    await page.mouse.up();
  }

  /** Namespace "payments", zoomed into its widest root child, searching `needle`. */
  async function zoomAndSearch(needle: string): Promise<{ name: string; total: number }> {
    await open(`${NAMESPACE}=payments`);
    const widest = await widestRootChild(`${NAMESPACE}=payments`);
    await clickFrame(widest.name);
    await settle();
    await page.fill('#search-input', needle);
    await page.waitForFunction(`window.__flame.snapshot().search === ${JSON.stringify(needle)}`);
    return widest;
  }

  before(async () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { encoding: 'utf8' });
    assert.equal(build.status, 0, build.stderr);
    mkdirSync(SHOTS, { recursive: true });
    serve = await startTestServe();
    base = serve.app.httpUrl;
    await feedCapture();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1500, height: 950 }, acceptDownloads: true });
    page.on('pageerror', (err) => assert.fail(`page error: ${err.message}`));
  });
  after(async () => {
    await browser?.close();
    await serve?.cleanup();
  });

  it('opens on the CPU flame graph of everything stored, with the top table, timeline and a picker per attribute', async () => {
    const s = await open();
    const tree = await api<FlameTreeJson>('/api/flamegraph');
    assert.equal(s.type, 'samples/count');
    assert.equal(String(s.rootTotal), tree.rootTotal);
    assert.equal(s.nodes, tree.parent.length);
    assert.ok(s.drawn > 10 && s.labels > 10, `frames and labels drawn: ${s.drawn}/${s.labels}`);
    assert.ok(s.timelinePoints > 1);
    const top = await api<{ functions: { name: string; self: string }[] }>('/api/top?limit=200');
    assert.equal(s.topNames[0], top.functions[0]?.name, 'sorted by self like the API');
    assert.match(
      s.summary,
      new RegExp(`total ${Number(tree.rootTotal).toLocaleString('en-US')} samples \\(`),
    );
    const labels = await api<{ labels: Record<string, { value: string }[]> }>('/api/labels');
    // Pickers for the common keys, every other attribute in the "more" menu, which opens its picker.
    const pickers = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#filters-a select[data-key]')].map((e) => e.dataset.key)`,
    );
    const more = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#filters-a select.add-key option')].map((e) => e.value).filter(Boolean)`,
    );
    assert.deepEqual([...pickers, ...more].sort(), Object.keys(labels.labels).sort());
    for (const key of [
      'service.name',
      'k8s.node.name',
      NAMESPACE,
      'k8s.pod.name',
      'k8s.container.name',
      'thread.name',
    ]) {
      assert.ok(pickers.includes(key), `a picker for ${key}`);
    }
    assert.ok(more.includes('container.image.name'));
    await page.selectOption('#filters-a select.add-key', 'container.image.name');
    const values = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#filters-a select[data-key="container.image.name"] option')].map((e) => e.value).filter(Boolean)`,
    );
    assert.deepEqual(
      values,
      labels.labels['container.image.name']!.map((v) => v.value),
    );
    assert.deepEqual(s.errors, []);
    await shot('01-open');
  });

  it('hovering a frame shows its name, total, self, share and CPU time (count × period)', async () => {
    const widest = await widestRootChild('');
    const rect = await page.evaluate<Rect>(`window.__flame.frameRect(${JSON.stringify(widest.name)})`);
    await page.mouse.move(rect.x + rect.w / 2, rect.y + rect.h / 2);
    const tooltip = page.locator('#tooltip');
    await tooltip.waitFor({ state: 'visible' });
    const text = await tooltip.innerText();
    assert.ok(text.includes(widest.name), text);
    const types = await api<{ types: { id: string; period: string }[] }>('/api/profile-types');
    const periodNs = Number(types.types.find((t) => t.id === 'samples/count')!.period);
    const seconds = ((widest.total * periodNs) / 1e9).toFixed(2);
    assert.match(
      text,
      new RegExp(`total\\s+${widest.total.toLocaleString('en-US')} samples \\(${seconds} s\\)`),
    );
    assert.match(text, /self\s+[\d,]+ samples/);
    assert.match(text, /% of all/);
    await shot('02-tooltip');
  });

  it('a filter picked from the pickers narrows the graph, shows as a chip and lands in the URL', async () => {
    await open();
    await page.selectOption(`#filters-a select[data-key="${NAMESPACE}"]`, 'payments');
    const s = await settle();
    assert.deepEqual(s.filters, { [NAMESPACE]: ['payments'] });
    assert.match(page.url(), /k8s\.namespace\.name=payments/);
    const tree = await api<FlameTreeJson>(`/api/flamegraph?${NAMESPACE}=payments`);
    assert.equal(String(s.rootTotal), tree.rootTotal);
    assert.ok(Number(tree.rootTotal) < (await api<FlameTreeJson>('/api/flamegraph')).total[0]!);
    assert.equal(await page.locator(`.chip[data-key="${NAMESPACE}"]`).textContent(), 'payments×');
    // A second value of the same key is OR: the total is both namespaces'.
    await page.selectOption(`#filters-a select[data-key="${NAMESPACE}"]`, 'shop');
    const both = await settle();
    assert.deepEqual(both.filters, { [NAMESPACE]: ['payments', 'shop'] });
    assert.equal(String(both.rootTotal), (await api<FlameTreeJson>('/api/flamegraph')).rootTotal);
    await page.click(`.chip[data-value="shop"] button`);
    assert.deepEqual((await settle()).filters, { [NAMESPACE]: ['payments'] });
  });

  it('clicking a frame zooms into it; breadcrumbs and back/forward move through the zoom', async () => {
    await open(`${NAMESPACE}=payments`);
    const widest = await widestRootChild(`${NAMESPACE}=payments`);
    await clickFrame(widest.name);
    let s = await settle();
    assert.deepEqual(s.zoomPath, [widest.name]);
    assert.deepEqual(s.focusPath, [widest.name]);
    assert.equal(s.focusTotal, widest.total);
    assert.match(page.url(), /ui\.zoom=/);
    const crumbs = await page.locator('#breadcrumbs').innerText();
    assert.match(crumbs, new RegExp(`all\\s*›\\s*${escapeRegExp(widest.name)}`));
    await shot('03-zoomed');
    await page.goBack();
    s = await settle();
    assert.deepEqual(s.focusPath, []);
    assert.deepEqual(s.filters, { [NAMESPACE]: ['payments'] }, 'back undoes the zoom only');
    await page.goForward();
    s = await settle();
    assert.deepEqual(s.focusPath, [widest.name]);
    await page.click('#breadcrumbs button:has-text("all")');
    assert.deepEqual((await settle()).focusPath, []);
    // Escape zooms out one frame at a time.
    await clickFrame(widest.name);
    assert.deepEqual((await settle()).focusPath, [widest.name]);
    await page.keyboard.press('Escape');
    assert.deepEqual((await settle()).focusPath, []);
  });

  it('search highlights matching frames, sums them counting each stack once, and filters the table', async () => {
    await open();
    const needle = 'json';
    await page.fill('#search-input', needle);
    await page.waitForFunction(`window.__flame.snapshot().search === '${needle}'`);
    const s = await snapshot();
    // Expected from the API's tree: matching nodes with no matching ancestor.
    const tree = await api<FlameTreeJson>('/api/flamegraph');
    const matches = (i: number): boolean => tree.names[tree.name[i]!]!.toLowerCase().includes(needle);
    let nodes = 0;
    let total = 0;
    for (let i = 1; i < tree.parent.length; i++) {
      if (!matches(i)) continue;
      nodes++;
      let covered = false;
      for (let p = tree.parent[i]!; p > 0; p = tree.parent[p]!) covered ||= matches(p);
      if (!covered) total += tree.total[i]!;
    }
    assert.ok(nodes > 1 && total > 0);
    assert.equal(s.matchNodes, nodes);
    assert.equal(s.matchTotal, total);
    assert.match(s.searchText, new RegExp(`${nodes} frames · ${total.toLocaleString('en-US')} samples`));
    assert.ok(
      s.topNames.length > 0 && s.topNames.every((n) => n.toLowerCase().includes(needle)),
      'table filtered',
    );
    assert.match(page.url(), /ui\.search=json/);
    await shot('04-search');
  });

  it('the top table sorts by self and total; clicking a row outlines that function in the graph', async () => {
    await open();
    await page.click('#top-table th[data-sort="total"]');
    let s = await snapshot();
    assert.equal(s.topSort, 'total');
    const top = await api<{ functions: { name: string; total: string }[] }>('/api/top?limit=200');
    const byTotal = [...top.functions].sort(
      (a, b) => Number(b.total) - Number(a.total) || a.name.localeCompare(b.name),
    );
    assert.deepEqual(
      s.topNames.slice(0, 5),
      byTotal.slice(0, 5).map((f) => f.name),
    );
    const name = s.topNames[3]!;
    await page.click(`#top-table tbody tr:nth-child(4) td.fn`);
    s = await settle();
    assert.equal(s.highlight, name);
    assert.equal(await page.locator('#top-table tr.highlighted').count(), 1);
    assert.match(decodeURIComponent(page.url()), new RegExp(`ui\\.hl=${escapeRegExp(name)}`));
    await shot('05-table-highlight');
  });

  it('the sandwich view shows callers and callees of a function from the table', async () => {
    await open();
    const name = (await snapshot()).topNames[1]!;
    await page.click('#top-table tbody tr:nth-child(2) button');
    const s = await settle();
    assert.equal(s.view, 'sandwich');
    assert.equal(s.sandwichFn, name);
    const sandwich = await api<{ callers: FlameTreeJson; callees: FlameTreeJson }>(
      `/api/sandwich?function=${encodeURIComponent(name)}`,
    );
    assert.equal(s.callersNodes, sandwich.callers.parent.length);
    assert.equal(s.calleesNodes, sandwich.callees.parent.length);
    assert.ok(s.callersDrawn > 1 && s.calleesDrawn >= 1);
    assert.match(
      s.summary,
      new RegExp(`total ${Number(sandwich.callees.rootTotal).toLocaleString('en-US')} samples`),
    );
    assert.equal(await page.locator('#sandwich-fn').innerText(), name);
    // Shares in a sandwich are of the function's total, and say so.
    const rect = await page.evaluate<Rect>(`window.__flame.frameRect(${JSON.stringify(name)}, 'callees')`);
    await page.mouse.move(rect.x + rect.w / 2, rect.y + rect.h / 2);
    assert.match(
      await page.locator('#tooltip').innerText(),
      new RegExp(`100\\.0 % of ${escapeRegExp(name)}`),
    );
    // The table's shares stay shares of the whole selection, not of the sandwich's tree.
    const top = await api<{ functions: { name: string; self: string }[] }>('/api/top?limit=200');
    const all = await api<FlameTreeJson>('/api/flamegraph');
    const first = await page.locator('#top-table tbody tr:nth-child(1) td:nth-child(2)').textContent();
    assert.equal(first, formatShare(Number(top.functions[0]!.self), Number(all.rootTotal)));
    await shot('06-sandwich');
  });

  it('dragging on the timeline picks the time range; the graph follows it', async () => {
    await open();
    await dragTimeline(0.05, 0.5);
    const s = await settle();
    assert.ok(s.from !== null && s.to !== null && s.from < s.to, `range ${s.from}..${s.to}`);
    assert.match(page.url(), /from=\d+&to=\d+/);
    const tree = await api<FlameTreeJson>(`/api/flamegraph?from=${s.from}&to=${s.to}`);
    assert.equal(String(s.rootTotal), tree.rootTotal);
    assert.ok(Number(tree.rootTotal) < (await api<FlameTreeJson>('/api/flamegraph')).total[0]!);
    assert.notEqual(await page.inputValue('#from-input'), '');
    await shot('07-time-range');
  });

  it('diff mode compares selection A with B (filters B), red/green by change of share, both sides in the tooltip', async () => {
    await open(`${NAMESPACE}=payments`);
    await page.click('.tabs button[data-view="diff"]');
    await settle();
    // B shows pickers only for what A filters (the rest behind one "add" menu).
    const bKeys = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#filters-b select[data-key]')].map((e) => e.dataset.key)`,
    );
    assert.deepEqual(bKeys, [NAMESPACE]);
    await page.selectOption(`#filters-b select[data-key="${NAMESPACE}"]`, 'shop');
    const s = await settle();
    assert.equal(s.view, 'diff');
    assert.deepEqual(s.diffFilters, { [NAMESPACE]: ['shop'] });
    const diff = await api<FlameTreeJson & { rootTotalB: string }>(
      `/api/diff?${NAMESPACE}=payments&diff.${NAMESPACE}=shop`,
    );
    assert.equal(String(s.rootTotal), diff.rootTotal);
    assert.equal(String(s.rootTotalB), diff.rootTotalB);
    assert.equal(s.nodes, diff.parent.length);
    assert.match(await page.locator('#legend').innerText(), /grew in B[\s\S]*shrank in B/);
    const widest = await widestRootChild(`${NAMESPACE}=shop`);
    const rect = await page.evaluate<Rect>(`window.__flame.frameRect(${JSON.stringify(widest.name)})`);
    await page.mouse.move(rect.x + rect.w / 2, rect.y + rect.h / 2);
    const text = await page.locator('#tooltip').innerText();
    assert.match(text, /A total[\s\S]*B total[\s\S]*change\s+[+-]\d+\.\d\d percentage points/);
    assert.match(page.url(), /diff\.k8s\.namespace\.name=shop/);
    await shot('08-diff');
    // Selection B by time: with "drag sets B", a drag on the timeline sets diff.from/diff.to only.
    await page.check('#drag-b');
    await dragTimeline(0.02, 0.3);
    const byTime = await settle();
    assert.ok(byTime.diffFrom !== null && byTime.diffTo !== null && byTime.diffFrom < byTime.diffTo);
    assert.equal(byTime.from, null, 'A keeps all time');
    const diffB = await api<FlameTreeJson & { rootTotalB: string }>(
      `/api/diff?${NAMESPACE}=payments&diff.${NAMESPACE}=shop&diff.from=${byTime.diffFrom}&diff.to=${byTime.diffTo}`,
    );
    assert.equal(String(byTime.rootTotalB), diffB.rootTotalB);
    assert.equal(String(byTime.rootTotal), diff.rootTotal);
  });

  it('live mode re-queries on new data without losing zoom, search or filters', async () => {
    const widest = await zoomAndSearch('a');
    await page.check('#live-toggle');
    await page.waitForFunction(`window.__flame.snapshot().live === 'live'`);
    const before = await settle();
    assert.match(page.url(), /ui\.live=1/);
    await feedCapture();
    await page.waitForFunction(
      `(() => { const s = window.__flame.snapshot(); return s.liveRefreshes > 0 && s.rootTotal > ${before.rootTotal}; })()`,
      undefined,
      { timeout: 30_000 },
    );
    const s = await settle();
    const tree = await api<FlameTreeJson>(`/api/flamegraph?${NAMESPACE}=payments`);
    assert.equal(String(s.rootTotal), tree.rootTotal, 'the graph shows the new data');
    assert.deepEqual(s.zoomPath, [widest.name]);
    assert.deepEqual(s.focusPath, [widest.name], 'zoom kept by frame path');
    assert.ok(s.focusTotal! > before.focusTotal!, 'the zoomed frame grew with the new data');
    assert.equal(s.search, 'a');
    assert.ok(s.matchNodes >= before.matchNodes);
    assert.deepEqual(s.filters, { [NAMESPACE]: ['payments'] });
    assert.equal(page.url().includes('ui.zoom'), true, 'no reload: the URL still holds the zoom');
    await shot('09-live');
    await page.uncheck('#live-toggle');
    assert.equal((await snapshot()).live, 'off');
  });

  it('"download pprof" downloads the current selection: the samples /api/pprof and the graph have, readable by go tool pprof', async () => {
    await open(`${NAMESPACE}=payments`);
    const s = await snapshot();
    assert.equal(new URL(s.pprofHref).search.slice(1), apiQuery());
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#pprof-link')]);
    const file = join(SHOTS, 'download.pb.gz');
    await download.saveAs(file);
    const downloaded = readPprofFile(file);
    const direct = Profile.decode(
      gunzipSync(Buffer.from(await (await fetch(`${base}/api/pprof?${apiQuery()}`)).arrayBuffer())),
    );
    // The same selection's samples as /api/pprof and as the graph (the bytes may differ in table order).
    assert.equal(samplesTotal(downloaded), samplesTotal(direct));
    assert.equal(samplesTotal(downloaded), BigInt(s.rootTotal!));
    if (go.status === 0) {
      const top = execFileSync('go', ['tool', 'pprof', '-top', file], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      assert.match(top, /flat%/);
    } else console.log('go tool pprof check skipped: go is not installed (Debian golang-go)');
  });

  it('a shared URL reproduces the view: filters, zoom, search and view mode', async () => {
    await zoomAndSearch('hash');
    const url = page.url();
    const first = await snapshot();
    const other = await browser.newPage({ viewport: { width: 1500, height: 950 } });
    try {
      await other.goto(url);
      await other.waitForFunction('window.__flame && window.__flame.snapshot().graphLoads > 0');
      await other.evaluate('window.__flame.idle()');
      const s = await other.evaluate<Snapshot>('window.__flame.snapshot()');
      for (const key of [
        'filters',
        'zoomPath',
        'focusPath',
        'search',
        'matchNodes',
        'matchTotal',
        'rootTotal',
      ] as const) {
        assert.deepEqual(s[key], first[key], key);
      }
      assert.equal(await other.inputValue('#search-input'), 'hash');
    } finally {
      await other.close();
    }
  });

  it('a selection the server refuses shows the server’s message naming the parameter, and the page keeps working', async () => {
    await page.goto(`${base}/?nosuch.attribute=x`);
    await page.waitForFunction('window.__flame && window.__flame.snapshot().errors.length > 0');
    const s = await settle();
    assert.ok(
      s.errors.some((e) => e.includes('nosuch.attribute')),
      s.errors.join('\n'),
    );
    assert.ok(await page.locator('#error').isVisible());
    assert.match(await page.locator('#error').innerText(), /nosuch\.attribute/);
    // Removing the bad filter recovers without a reload.
    await page.click('.chip[data-key="nosuch.attribute"] button');
    const fixed = await settle();
    assert.deepEqual(fixed.errors, []);
    assert.ok(await page.locator('#error').isHidden());
    assert.equal(String(fixed.rootTotal), (await api<FlameTreeJson>('/api/flamegraph')).rootTotal);
  });

  it('the trace-id box shows one request’s samples; a malformed id is refused with the reason', async () => {
    // The sinks' reference request: a malloc profile whose samples carry a trace link.
    const reply = await postOtlp(base, encodeExportRequest(storableSinkRequest()));
    assert.equal(reply.status, 200);
    await open('type=malloc%2Fbytes');
    await page.fill('#trace-input', 'not-a-trace');
    await page.click('#trace-form button[type="submit"]');
    assert.match(
      await page.locator('#error').innerText(),
      /trace id "not-a-trace": expected 32 hex characters/,
    );
    const options = await page.evaluate<string[]>(
      `[...document.querySelectorAll('#trace-list option')].map((e) => e.value)`,
    );
    assert.ok(options.includes(TRACE_ID_HEX), 'recent trace ids offered');
    await page.fill('#trace-input', TRACE_ID_HEX.toUpperCase());
    await page.click('#trace-form button[type="submit"]');
    const s = await settle();
    assert.equal(s.traceId, TRACE_ID_HEX);
    assert.deepEqual(s.errors, []);
    const tree = await api<FlameTreeJson>(`/api/flamegraph?type=malloc%2Fbytes&traceId=${TRACE_ID_HEX}`);
    assert.ok(Number(tree.rootTotal) > 0);
    assert.equal(String(s.rootTotal), tree.rootTotal);
    assert.match(s.summary, new RegExp(`trace ${TRACE_ID_HEX}`));
    await shot('10-trace');
  });
});
