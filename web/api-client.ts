import type {
  DiffTreeJson,
  FlameTreeJson,
  LabelValue,
  ProfileTypeInfo,
  SandwichJson,
  TimelineJson,
  TopFunction,
  TraceInfo,
} from './api-types.js';

/** Node limit asked of the server: 100k nodes still draw in well under a frame budget per zoom. */
export const MAX_NODES = 100_000;
/** Rows of the top-functions table. */
export const TOP_LIMIT = 200;
/** Recent trace ids offered in the trace box. */
export const TRACE_LIMIT = 50;

/** An API answer other than 2xx, with the server's own message (it names the parameter and the fix). */
export class ApiError extends Error {
  constructor(
    readonly path: string,
    readonly status: number,
    message: string,
  ) {
    super(`${path}: ${message} (HTTP ${status})`);
  }
}

async function getJson<T>(path: string, params: URLSearchParams, signal?: AbortSignal): Promise<T> {
  const query = params.toString();
  const response = await fetch(query ? `${path}?${query}` : path, { signal });
  if (!response.ok) {
    let message = response.statusText;
    try {
      const body = (await response.json()) as { error?: unknown };
      if (typeof body.error === 'string') message = body.error;
    } catch {
      // Not JSON: keep the status text.
    }
    throw new ApiError(path, response.status, message);
  }
  return (await response.json()) as T;
}

function withParam(params: URLSearchParams, key: string, value: string | number): URLSearchParams {
  const copy = new URLSearchParams(params);
  copy.set(key, String(value));
  return copy;
}

export async function fetchProfileTypes(signal?: AbortSignal): Promise<ProfileTypeInfo[]> {
  return (await getJson<{ types: ProfileTypeInfo[] }>('/api/profile-types', new URLSearchParams(), signal))
    .types;
}

export async function fetchRange(
  params: URLSearchParams,
  signal?: AbortSignal,
): Promise<{ from: number | null; to: number | null }> {
  return getJson('/api/range', params, signal);
}

export async function fetchLabels(
  params: URLSearchParams,
  signal?: AbortSignal,
): Promise<Record<string, LabelValue[]>> {
  return (await getJson<{ labels: Record<string, LabelValue[]> }>('/api/labels', params, signal)).labels;
}

export function fetchFlameGraph(params: URLSearchParams, signal?: AbortSignal): Promise<FlameTreeJson> {
  return getJson('/api/flamegraph', withParam(params, 'maxNodes', MAX_NODES), signal);
}

/** The selection's total alone (a one-node tree): what the top table's shares are of. */
export async function fetchSelectionTotal(params: URLSearchParams, signal?: AbortSignal): Promise<number> {
  const root = await getJson<FlameTreeJson>('/api/flamegraph', withParam(params, 'maxNodes', 1), signal);
  return Number(root.rootTotal);
}

export function fetchDiff(params: URLSearchParams, signal?: AbortSignal): Promise<DiffTreeJson> {
  return getJson('/api/diff', withParam(params, 'maxNodes', MAX_NODES), signal);
}

export function fetchSandwich(
  params: URLSearchParams,
  functionName: string,
  signal?: AbortSignal,
): Promise<SandwichJson> {
  return getJson('/api/sandwich', withParam(params, 'function', functionName), signal);
}

export async function fetchTop(params: URLSearchParams, signal?: AbortSignal): Promise<TopFunction[]> {
  return (
    await getJson<{ functions: TopFunction[] }>('/api/top', withParam(params, 'limit', TOP_LIMIT), signal)
  ).functions;
}

export function fetchTimeline(
  params: URLSearchParams,
  stepMs: number | undefined,
  signal?: AbortSignal,
): Promise<TimelineJson> {
  return getJson('/api/timeline', stepMs ? withParam(params, 'step', stepMs) : params, signal);
}

export async function fetchTraces(params: URLSearchParams, signal?: AbortSignal): Promise<TraceInfo[]> {
  return (
    await getJson<{ traces: TraceInfo[] }>('/api/traces', withParam(params, 'limit', TRACE_LIMIT), signal)
  ).traces;
}

/** The pprof download of a selection: same parameters as the graph. */
export function pprofUrl(params: URLSearchParams): string {
  const query = params.toString();
  return query ? `/api/pprof?${query}` : '/api/pprof';
}
