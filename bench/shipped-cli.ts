import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';

/**
 * What the delivery benchmarks run: the CLI as it ships — `dist/` compiled by
 * `tsc -p tsconfig.build.json` (what `npm install`'s prepare script does), started through
 * `bin/ig-otel-profiles.js` with the image's NODE_OPTIONS (read from the Dockerfile, so a change
 * there is measured without touching the benchmarks). Running under tsx instead would add an
 * in-process TypeScript compiler's memory and CPU that no user pays.
 */

const ROOT = resolve(dirname(new URL(import.meta.url).pathname), '..');
export const CLI_ENTRY = join(ROOT, 'bin/ig-otel-profiles.js');
/** Compiled entry point; its mtime is the time of the last build (tsc rewrites every file). */
const DIST_MAIN = join(ROOT, 'dist/cli/main.js');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');
/** A full build takes ~15 s; a minute means something is wrong. */
const BUILD_TIMEOUT_MS = 120_000;

const run = promisify(execFile);

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtimeMs(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function distIsStale(): boolean {
  let built: number;
  try {
    built = statSync(DIST_MAIN).mtimeMs;
  } catch {
    return true;
  }
  const inputs = [join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')].map(
    (p) => statSync(p).mtimeMs,
  );
  return Math.max(newestMtimeMs(join(ROOT, 'src')), ...inputs) > built;
}

let building: Promise<string> | undefined;

/**
 * Builds dist/ when any source is newer than it (once per benchmark run); resolves to a note for
 * the method text. A failed build throws: measuring an old dist would misreport the tree.
 */
export function ensureDistBuilt(): Promise<string> {
  building ??= (async () => {
    if (!distIsStale()) return 'dist/ was up to date';
    try {
      await run(process.execPath, [TSC, '-p', 'tsconfig.build.json'], {
        cwd: ROOT,
        timeout: BUILD_TIMEOUT_MS,
      });
    } catch (err) {
      const out = (err as { stdout?: string }).stdout ?? '';
      throw new Error(`building dist/ failed (tsc -p tsconfig.build.json):\n${out.slice(-4000)}`, {
        cause: err,
      });
    }
    return 'dist/ rebuilt with `tsc -p tsconfig.build.json` before the run';
  })();
  return building;
}

/** `ENV NODE_OPTIONS="…"` of the production image (the deploy/k8s manifests must match it). */
export function imageNodeOptions(): string {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const m = /^ENV\s+NODE_OPTIONS="([^"]*)"/m.exec(dockerfile);
  if (!m?.[1]) throw new Error('Dockerfile: no ENV NODE_OPTIONS="…" line to run the benchmark with');
  return m[1];
}

/**
 * The NODE_OPTIONS the benchmarks run the CLI with: the image's, or BENCH_NODE_OPTIONS when set
 * (even empty), to compare V8 flags before changing the image, e.g.
 * `BENCH_NODE_OPTIONS="--max-old-space-size=256" npm run bench -- --only footprint --out F`.
 */
export function productionNodeOptions(): string {
  return process.env.BENCH_NODE_OPTIONS ?? imageNodeOptions();
}

/**
 * Extra `node` flags for every process a benchmark samples, from BENCH_NODE_ARGS (space-separated),
 * e.g. `BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --only footprint`
 * to see where a shipped process spends its time (node refuses --cpu-prof in NODE_OPTIONS).
 * Numbers measured with a profiler attached are not comparable to a plain run.
 */
export function benchNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((arg) => arg !== '');
}
