import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from '../test/web/chromium.js';
import { syntheticFlameTree } from '../test/web/synthetic-flame-tree.js';
import type { LoadTimings } from '../web/load-timings.js';
import type { Benchmark, BenchOptions, BenchResult } from './bench-harness.js';
import { fmt, fmtInt, fmtRatio, median, verdict } from './bench-harness.js';

/**
 * Issue 14, "Page": time from the request to a drawn flame graph of a 100k-node tree in headless
 * Chromium, with the page's own canvas renderer, next to the time the same page needs merely to
 * fetch and JSON.parse the same answer (the floor any renderer pays). The page is the real bundle
 * (dist/web, rebuilt first); the API answers come from a loopback server holding a synthetic tree,
 * so the figure is the page's, not the store's (the store has its own benchmark).
 */

const ROOT = new URL('..', import.meta.url).pathname;
const WEB_DIR = join(ROOT, 'dist', 'web');
const NODES = 100_000;
const QUICK_NODES = 20_000;
/** Timed loads after one warm-up (the first load also compiles the page's code). */
const RUNS = 7;
const QUICK_RUNS = 2;
/** Issue 14 sets no number; the page must stay interactive: request → drawn within 3× fetch + parse. */
const TARGET_RATIO = 3;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/** The API the page queries on load, answered for one profile type and one tree. */
function apiAnswers(treeJson: string): Record<string, string> {
  const now = Date.now();
  return {
    '/api/profile-types': JSON.stringify({
      types: [
        {
          id: 'samples/count',
          sampleType: { type: 'samples', unit: 'count' },
          periodType: { type: 'cpu', unit: 'nanoseconds' },
          period: '10000000',
          samples: '1000000',
        },
      ],
    }),
    '/api/range': JSON.stringify({ from: now - 600_000, to: now }),
    '/api/timeline': JSON.stringify({
      step: 10_000,
      points: Array.from({ length: 60 }, (_, i) => [now - 600_000 + i * 10_000, 1000 + ((i * 37) % 200)]),
    }),
    '/api/labels': JSON.stringify({
      labels: { 'k8s.namespace.name': [{ value: 'shop', samples: '1000000' }] },
    }),
    '/api/top': JSON.stringify({ functions: [] }),
    '/api/traces': JSON.stringify({ traces: [] }),
    '/api/flamegraph': treeJson,
  };
}

async function startFixtureServer(treeJson: string): Promise<{ url: string; close: () => Promise<void> }> {
  const answers = apiAnswers(treeJson);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const api = answers[path];
    if (api !== undefined) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(api);
      return;
    }
    const file = normalize(join(WEB_DIR, path === '/' ? 'index.html' : path));
    if (!file.startsWith(WEB_DIR) || !existsSync(file)) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface PageHook {
  idle(): Promise<void>;
  loadGraph(): Promise<void>;
  lastLoad: LoadTimings | null;
  timeRedraw(): number;
  update(change: { zoom: string[] }): void;
}
type HookWindow = { __flame: PageHook };

async function timeLoad(page: Page): Promise<LoadTimings> {
  return page.evaluate(async () => {
    const app = (globalThis as unknown as HookWindow).__flame;
    await app.loadGraph();
    if (!app.lastLoad) throw new Error('the page recorded no load');
    return app.lastLoad;
  });
}

async function timeFetchParse(page: Page): Promise<number> {
  return page.evaluate(async () => {
    const t0 = performance.now();
    const response = await fetch('/api/flamegraph?maxNodes=100000');
    JSON.parse(await response.text());
    return performance.now() - t0;
  });
}

/** Zooms into the widest child of the root and back, timing each redraw. */
async function timeZoom(page: Page, zoomTo: string): Promise<number[]> {
  return page.evaluate((name) => {
    const app = (globalThis as unknown as HookWindow).__flame;
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      app.update({ zoom: [name] });
      times.push(app.timeRedraw());
      app.update({ zoom: [] });
      times.push(app.timeRedraw());
    }
    return times;
  }, zoomTo);
}

export const pageDrawBenchmark: Benchmark = {
  name: 'page-draw',
  title: 'Page: request to drawn flame graph (100k nodes, headless Chromium)',
  issue: '14',
  async run({ quick, log }: BenchOptions): Promise<BenchResult> {
    const missing = chromiumMissing();
    const method = [
      `The page bundle (dist/web, rebuilt by scripts/build-web.mjs) in headless Chromium (GPU disabled), its API answered by a loopback server holding a synthetic ${fmtInt(quick ? QUICK_NODES : NODES)}-node tree (test/web/synthetic-flame-tree.ts: deep chains, wide fan-out, mixed frame types).`,
      '**ours**: the page’s own load of the graph, from `fetch(/api/flamegraph)` to the frame after the canvas draw (fetch + JSON.parse + layout + draw + paint), median of the timed runs after one warm-up.',
      '**baseline**: in the same page, `fetch` + `JSON.parse` of the same answer and nothing else: what any renderer pays before drawing.',
      'Re-zoom: redraw after a click into the widest frame and back (layout kept; only the draw).',
    ];
    if (missing) return { status: 'not-run', reason: missing, method };
    const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build-web.mjs')], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`build-web failed: ${build.stderr}`);
    const tree = syntheticFlameTree(quick ? QUICK_NODES : NODES);
    const treeJson = JSON.stringify(tree);
    const widest = (() => {
      let best = -1;
      for (let i = 1; i < tree.parent.length; i++) {
        if (tree.parent[i] === 0 && (best < 0 || (tree.total[i] as number) > (tree.total[best] as number)))
          best = i;
      }
      return tree.names[tree.name[best] as number] as string;
    })();
    const server = await startFixtureServer(treeJson);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.goto(server.url);
      await page.waitForFunction(() => (globalThis as unknown as HookWindow).__flame?.lastLoad != null);
      await page.evaluate(() => (globalThis as unknown as HookWindow).__flame.idle());
      const runs = quick ? QUICK_RUNS : RUNS;
      await timeLoad(page);
      await timeFetchParse(page);
      const loads: LoadTimings[] = [];
      const floors: number[] = [];
      for (let i = 0; i < runs; i++) {
        floors.push(await timeFetchParse(page));
        loads.push(await timeLoad(page));
        log(
          `page-draw: run ${i + 1}/${runs}: fetch+parse ${fmt(floors[i] as number)} ms, drawn ${fmt((loads[i] as LoadTimings).paintedMs)} ms`,
        );
      }
      const zooms = await timeZoom(page, widest);
      const painted = median(loads.map((l) => l.paintedMs));
      const floor = median(floors);
      const ratio = painted / floor;
      const last = loads[loads.length - 1] as LoadTimings;
      return {
        status: 'ran',
        measurements: [
          {
            what: `request → drawn flame graph, ${fmtInt(last.nodes)} nodes`,
            baseline: `${fmt(floor)} ms (fetch + JSON.parse)`,
            ours: `${fmt(painted)} ms`,
            ratio: fmtRatio(ratio),
            target: `≤ ${TARGET_RATIO}×`,
            verdict: verdict(ratio <= TARGET_RATIO),
          },
        ],
        method,
        details: [
          '| phase (median, ms from the request) | ms |',
          '|---|---|',
          `| answer fetched and parsed | ${fmt(median(loads.map((l) => l.fetchedMs)))} |`,
          `| layout built (typed arrays, children by name) | ${fmt(median(loads.map((l) => l.modelMs)))} |`,
          `| canvas drawn | ${fmt(median(loads.map((l) => l.drawnMs)))} |`,
          `| next frame painted | ${fmt(painted)} |`,
          `| frames drawn (≥ 1 px wide) | ${fmtInt(last.drawn)} of ${fmtInt(last.nodes)} |`,
          `| re-zoom redraw (median of ${zooms.length}) | ${fmt(median(zooms))} |`,
          '',
          'For comparison (../shared/reference/receiver-and-ui.md, same machine type): d3-flame-graph 5.0.0 (SVG) took 10.3 s for 100k nodes, 299 ms when hiding frames < 5 px.',
        ],
      };
    } finally {
      await browser.close();
      await server.close();
    }
  },
};
