#!/usr/bin/env node
// Bundles the page `serve` shows at / (web/) into dist/web/: index.html + assets/page.js +
// assets/page.css, no CDN. Asset links carry a content hash (?v=…) so a browser never pairs a new
// index.html with a cached old script. Run by `npm run build` and `prepare` (so `npm install` on a
// fresh clone yields a working page); `--watch` rebuilds on change.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const src = join(root, 'web');
const out = join(root, 'dist', 'web');
const watch = process.argv.includes('--watch');

/** Browsers the page must run in: evergreen ones from the last few years (EventSource, canvas, ES2020). */
const TARGET = ['chrome100', 'firefox100', 'safari15'];

function hash(text) {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

function writeIndex(script, css) {
  const html = readFileSync(join(src, 'index.html'), 'utf8')
    .replace('assets/page.js', `assets/page.js?v=${hash(script)}`)
    .replace('assets/page.css', `assets/page.css?v=${hash(css)}`);
  writeFileSync(join(out, 'index.html'), html);
}

const options = {
  entryPoints: { page: join(src, 'main.ts'), 'page-style': join(src, 'page.css') },
  bundle: true,
  minify: !watch,
  sourcemap: 'linked',
  format: 'esm',
  target: TARGET,
  outdir: join(out, 'assets'),
  entryNames: '[name]',
  legalComments: 'none',
  logLevel: 'warning',
  write: false,
  metafile: false,
};

function emit(result) {
  mkdirSync(join(out, 'assets'), { recursive: true });
  let script = '';
  let css = '';
  for (const file of result.outputFiles) {
    const target = file.path.replace(/page-style\.css(\.map)?$/, 'page.css$1');
    const text = file.text.replace('page-style.css.map', 'page.css.map');
    writeFileSync(target, text);
    if (target.endsWith('page.js')) script = text;
    if (target.endsWith('page.css')) css = text;
  }
  writeIndex(script, css);
}

rmSync(out, { recursive: true, force: true });
if (watch) {
  const ctx = await esbuild.context({
    ...options,
    plugins: [{ name: 'emit', setup: (build) => build.onEnd((r) => r.errors.length || emit(r)) }],
  });
  await ctx.watch();
  console.log(`build-web: watching web/ → ${out}`);
} else {
  try {
    emit(await esbuild.build(options));
  } catch {
    // esbuild has printed the errors with file and line.
    process.exit(1);
  }
  console.log(`build-web: web/ → ${out}`);
}
