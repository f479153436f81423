import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FlameTree, ProfileStore, ProfileTypeInfo, Selection } from '../store/profile-store.js';
import {
  DIFF_PREFIX,
  parseCountParam,
  parseDiffSelection,
  parseSelection,
  QueryParamError,
} from './query-params.js';
import { DEFAULT_PROFILE_TYPE } from '../store/selection-sql.js';
import { InvalidSelectionError } from '../store/store-errors.js';

/** Flame graph size when the page does not ask: enough for a detailed view, small enough to send quickly. */
export const DEFAULT_MAX_NODES = 20_000;
/** Upper bound a client may ask for (the renderer stays smooth at 100k; beyond is not useful). */
export const MAX_MAX_NODES = 500_000;
const DEFAULT_TOP_LIMIT = 100;
const MAX_LIMIT = 10_000;
/** A timeline step below 1 ms is below the stored resolution of the page's axis. */
const MAX_STEP_MS = 366 * 24 * 3600 * 1000;
const NS_PER_MS = 1_000_000n;

/** An answer with its HTTP status: JSON (bigint as decimal strings) or raw bytes. */
type ApiAnswer =
  | { readonly kind: 'json'; readonly status?: number; readonly body: unknown }
  | {
      readonly kind: 'bytes';
      readonly contentType: string;
      readonly fileName: string;
      readonly body: Uint8Array;
    };

type Endpoint = (params: URLSearchParams) => Promise<ApiAnswer>;

/**
 * The JSON query API under /api (see docs/architecture.md): each endpoint parses its parameters with
 * query-params.ts (syntax) and answers JSON; the store checks type and filter keys against what it holds
 * (InvalidSelectionError). Either way a bad parameter is 400 `{"error", "parameter"}` naming it.
 * `GET /api/events` (SSE) is served beside it, not here.
 */
export class QueryApi {
  private readonly endpoints: ReadonlyMap<string, Endpoint>;

  constructor(private readonly store: ProfileStore) {
    this.endpoints = new Map<string, Endpoint>([
      ['/api/profile-types', async () => json({ types: await store.profileTypes() })],
      ['/api/range', (p) => this.range(p)],
      ['/api/labels', (p) => this.labels(p)],
      ['/api/flamegraph', (p) => this.flameGraph(p)],
      ['/api/top', (p) => this.top(p)],
      ['/api/timeline', (p) => this.timeline(p)],
      ['/api/diff', (p) => this.diff(p)],
      ['/api/sandwich', (p) => this.sandwich(p)],
      ['/api/traces', (p) => this.traces(p)],
      ['/api/pprof', (p) => this.pprof(p)],
    ]);
  }

  handles(path: string): boolean {
    return this.endpoints.has(path);
  }

  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const endpoint = this.endpoints.get(url.pathname);
    let answer: ApiAnswer;
    if (endpoint === undefined) {
      answer = json({ error: `${url.pathname}: no such API endpoint` }, 404);
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      answer = json({ error: `${req.method ?? ''} ${url.pathname}: the query API takes GET` }, 405);
    } else {
      try {
        answer = await endpoint(url.searchParams);
      } catch (err) {
        const bad = badParameter(err, url.searchParams);
        if (bad === undefined) throw err;
        answer = json(bad, 400);
      }
    }
    send(res, answer, req.method === 'HEAD');
  }

  private async range(params: URLSearchParams): Promise<ApiAnswer> {
    const range = await this.store.timeRange(parseSelection(params));
    return json({ from: range ? toMs(range.from) : null, to: range ? toMs(range.to) : null });
  }

  private async labels(params: URLSearchParams): Promise<ApiAnswer> {
    return json({ labels: await this.store.labelValues(parseSelection(params)) });
  }

  private async flameGraph(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    const maxNodes = parseCountParam(params, 'maxNodes', MAX_MAX_NODES) ?? DEFAULT_MAX_NODES;
    const tree = await this.store.flameGraph(sel, { maxNodes });
    return json({ ...plainTree(tree), ...(await this.typeOf(sel)) });
  }

  private async top(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    const limit = parseCountParam(params, 'limit', MAX_LIMIT) ?? DEFAULT_TOP_LIMIT;
    return json({ functions: await this.store.topFunctions(sel, limit), ...(await this.typeOf(sel)) });
  }

  private async timeline(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    const stepMs = parseCountParam(params, 'step', MAX_STEP_MS);
    const series = await this.store.timeline(
      sel,
      stepMs !== undefined ? BigInt(stepMs) * NS_PER_MS : undefined,
    );
    return json({
      step: toMs(series.stepNs),
      points: series.points.map((p) => [toMs(p.t), Number(p.value)]),
      ...(await this.typeOf(sel)),
    });
  }

  private async diff(params: URLSearchParams): Promise<ApiAnswer> {
    const a = parseSelection(params);
    const b = parseDiffSelection(params, a);
    const maxNodes = parseCountParam(params, 'maxNodes', MAX_MAX_NODES) ?? DEFAULT_MAX_NODES;
    const tree = await this.store.diff(a, b, { maxNodes });
    return json({
      ...plainTree(tree),
      totalB: tree.totalB,
      selfB: tree.selfB,
      rootTotalB: tree.rootTotalB,
      ...(await this.typeOf(a)),
    });
  }

  private async sandwich(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    const name = params.get('function');
    if (name === null || name === '') {
      throw new QueryParamError(
        'function',
        'function=NAME is required: the function whose callers and callees to show',
      );
    }
    const maxNodes = parseCountParam(params, 'maxNodes', MAX_MAX_NODES) ?? DEFAULT_MAX_NODES;
    const { callers, callees } = await this.store.sandwich(sel, name, { maxNodes });
    return json({ callers: plainTree(callers), callees: plainTree(callees), ...(await this.typeOf(sel)) });
  }

  private async traces(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    const limit = parseCountParam(params, 'limit', MAX_LIMIT) ?? DEFAULT_TOP_LIMIT;
    return json({ traces: await this.store.traces(sel, limit) });
  }

  private async pprof(params: URLSearchParams): Promise<ApiAnswer> {
    const sel = parseSelection(params);
    return {
      kind: 'bytes',
      contentType: 'application/octet-stream',
      fileName: `profile-${(sel.type ?? 'default').replace(/[^A-Za-z0-9._-]+/g, '_')}.pb.gz`,
      body: await this.store.pprof(sel),
    };
  }

  /** `type` and `unit` of the answer: the selected type, or the store's default (see defaultProfileType). */
  private async typeOf(
    sel: Selection,
  ): Promise<{ type: string | null; unit: string | null; period?: string }> {
    const types = await this.store.profileTypes();
    const info = sel.type !== undefined ? types.find((t) => t.id === sel.type) : defaultProfileType(types);
    return info
      ? { type: info.id, unit: info.sampleType.unit, period: info.period }
      : { type: sel.type ?? null, unit: null };
  }
}

/** The store's default when no type is asked: the CPU type when stored, else the first. */
function defaultProfileType(types: readonly ProfileTypeInfo[]): ProfileTypeInfo | undefined {
  return types.find((t) => t.id === DEFAULT_PROFILE_TYPE) ?? types[0];
}

/**
 * The 400 body of a bad parameter: ours (syntax) or the store's (unknown type or key). A store finding on a
 * key only the diff's selection names is reported as `diff.KEY`.
 */
function badParameter(
  err: unknown,
  params: URLSearchParams,
): { error: string; parameter: string } | undefined {
  if (err instanceof QueryParamError) return { error: err.message, parameter: err.param };
  if (!(err instanceof InvalidSelectionError)) return undefined;
  const onlyInDiff = params.has(`${DIFF_PREFIX}${err.parameter}`) && !params.has(err.parameter);
  const parameter = onlyInDiff ? `${DIFF_PREFIX}${err.parameter}` : err.parameter;
  return { error: `${parameter}: ${err.message}`, parameter };
}

function json(body: unknown, status = 200): ApiAnswer {
  return { kind: 'json', status, body };
}

/** FlameTree with typed arrays as plain arrays (JSON.stringify writes Int32Array as an object). */
function plainTree(tree: FlameTree): Record<string, unknown> {
  return {
    names: tree.names,
    name: Array.from(tree.name),
    parent: Array.from(tree.parent),
    frameType: tree.frameType,
    total: tree.total,
    self: tree.self,
    rootTotal: tree.rootTotal,
    truncated: tree.truncated,
  };
}

function toMs(ns: bigint): number {
  return Number(ns / NS_PER_MS);
}

function send(res: ServerResponse, answer: ApiAnswer, headOnly: boolean): void {
  let body: Buffer;
  const headers: Record<string, string | number> = { 'cache-control': 'no-store' };
  if (answer.kind === 'json') {
    body = Buffer.from(
      JSON.stringify(answer.body, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)),
    );
    headers['content-type'] = 'application/json; charset=utf-8';
  } else {
    body = Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength);
    headers['content-type'] = answer.contentType;
    headers['content-disposition'] = `attachment; filename="${answer.fileName}"`;
  }
  headers['content-length'] = body.length;
  res.writeHead(answer.kind === 'json' ? (answer.status ?? 200) : 200, headers);
  res.end(headOnly ? undefined : body);
}
