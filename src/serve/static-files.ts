import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where `npm run build` puts the page (from src/serve and from dist/serve alike). */
export const WEB_BUNDLE_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

const MISSING_BUNDLE_PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>ig-otel-profiles: page not built</title></head>
<body><h1>The web page is not built</h1>
<p>The server is running and receiving profiles, but <code>dist/web/</code> has no page.
Run <code>npm run build</code> (or <code>npm install</code>, which builds it) in the ig-otel-profiles
checkout and reload.</p>
<p>The query API works without it: <a href="/api/profile-types">/api/profile-types</a>,
<code>go tool pprof http://HOST:PORT/api/pprof</code>.</p></body></html>
`;

/**
 * Serves the bundled page: `/` is index.html, other paths are files under the bundle directory. The path is
 * decoded once, resolved and must stay inside the directory (no `..`, no encoded separators, no NUL);
 * anything else is 404. A missing bundle answers 503 with how to build it.
 */
export async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string = WEB_BUNDLE_DIR,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('405 method not allowed\n');
    return;
  }
  const file = resolveInside(root, new URL(req.url ?? '/', 'http://x').pathname);
  if (file === undefined) return notFound(res);
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    const bundled = await stat(resolve(root, 'index.html')).catch(() => undefined);
    if (!bundled?.isFile()) {
      res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'retry-after': '10' });
      res.end(MISSING_BUNDLE_PAGE);
      return;
    }
    return notFound(res);
  }
  res.writeHead(200, {
    'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
    'content-length': info.size,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** The file a URL path names inside `root`, or undefined when it would leave it or is malformed. */
export function resolveInside(root: string, urlPath: string): string | undefined {
  let path: string;
  try {
    path = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (path.includes('\0') || path.includes('\\')) return undefined;
  if (path === '/' || path === '') path = '/index.html';
  const base = resolve(root);
  const file = resolve(base, '.' + path);
  return file.startsWith(base + sep) ? file : undefined;
}

function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
  res.end('404 not found\n');
}
