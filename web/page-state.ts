/**
 * Everything the page shows is decided by this state, and the state lives in the URL: a link
 * reproduces the view, back/forward step through it. Selection parameters keep the API's own
 * names (`from`, `to`, `type`, `traceId`, `spanId`, `KEY=VALUE` filters, `diff.*`), so the page's
 * query string is also the API's; page-only parameters start with `ui.`, which no attribute key
 * the exporter writes does.
 */

export type ViewMode = 'flame' | 'sandwich' | 'diff';

/** Attribute key -> accepted values (OR within a key, AND across keys). */
export type Filters = ReadonlyMap<string, readonly string[]>;

export interface DiffSelection {
  readonly from?: number;
  readonly to?: number;
  /** Overrides of A's filters; an empty list removes A's filter on that key. */
  readonly filters: Filters;
}

export interface PageState {
  readonly type?: string;
  /** Unix ms, half-open [from, to). Absent: all stored time. */
  readonly from?: number;
  readonly to?: number;
  readonly filters: Filters;
  readonly traceId?: string;
  readonly spanId?: string;
  readonly view: ViewMode;
  /** Zoomed frame as names from the root's child down: survives a refresh that renumbers nodes. */
  readonly zoom: readonly string[];
  readonly search: string;
  /** Function of the sandwich view. */
  readonly fn?: string;
  /** Function highlighted from the top table. */
  readonly highlight?: string;
  readonly diff: DiffSelection;
  readonly live: boolean;
}

const SELECTION_KEYS = new Set(['from', 'to', 'type', 'traceId', 'spanId']);
const UI_PREFIX = 'ui.';
const DIFF_PREFIX = 'diff.';
const VIEWS: readonly ViewMode[] = ['flame', 'sandwich', 'diff'];

export const EMPTY_STATE: PageState = {
  filters: new Map(),
  view: 'flame',
  zoom: [],
  search: '',
  diff: { filters: new Map() },
  live: false,
};

function parseMs(text: string | null): number | undefined {
  if (text === null || text === '') return undefined;
  const n = Number(text);
  if (Number.isFinite(n)) return n;
  const parsed = Date.parse(text);
  return Number.isFinite(parsed) ? parsed : undefined;
}

function parseZoom(text: string | null): string[] {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every((v) => typeof v === 'string') ? value : [];
  } catch {
    return [];
  }
}

function addTo(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  if (value !== '' && !list.includes(value)) list.push(value);
  map.set(key, list);
}

export function stateFromQuery(query: string): PageState {
  const params = new URLSearchParams(query);
  const filters = new Map<string, string[]>();
  const diffFilters = new Map<string, string[]>();
  for (const [key, value] of params) {
    if (SELECTION_KEYS.has(key) || key.startsWith(UI_PREFIX)) continue;
    if (key.startsWith(DIFF_PREFIX)) {
      const inner = key.slice(DIFF_PREFIX.length);
      if (inner !== 'from' && inner !== 'to') addTo(diffFilters, inner, value);
    } else if (value !== '') addTo(filters, key, value);
  }
  const view = params.get('ui.view') as ViewMode | null;
  return {
    type: params.get('type') || undefined,
    from: parseMs(params.get('from')),
    to: parseMs(params.get('to')),
    filters,
    traceId: params.get('traceId') || undefined,
    spanId: params.get('spanId') || undefined,
    view: view && VIEWS.includes(view) ? view : 'flame',
    zoom: parseZoom(params.get('ui.zoom')),
    search: params.get('ui.search') ?? '',
    fn: params.get('ui.fn') || undefined,
    highlight: params.get('ui.hl') || undefined,
    diff: {
      from: parseMs(params.get('diff.from')),
      to: parseMs(params.get('diff.to')),
      filters: diffFilters,
    },
    live: params.get('ui.live') === '1',
  };
}

function appendFilters(params: URLSearchParams, filters: Filters, prefix: string, keepEmpty: boolean): void {
  for (const [key, values] of [...filters].sort(([a], [b]) => a.localeCompare(b))) {
    if (values.length === 0) {
      if (keepEmpty) params.append(prefix + key, '');
    } else for (const value of values) params.append(prefix + key, value);
  }
}

/** Selection A as API parameters. */
export function selectionParams(state: PageState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.type) params.set('type', state.type);
  if (state.from !== undefined) params.set('from', String(state.from));
  if (state.to !== undefined) params.set('to', String(state.to));
  if (state.traceId) params.set('traceId', state.traceId);
  if (state.traceId && state.spanId) params.set('spanId', state.spanId);
  appendFilters(params, state.filters, '', false);
  return params;
}

/** Selection A plus the `diff.*` overrides that make selection B. */
export function diffParams(state: PageState): URLSearchParams {
  const params = selectionParams(state);
  if (state.diff.from !== undefined) params.set('diff.from', String(state.diff.from));
  if (state.diff.to !== undefined) params.set('diff.to', String(state.diff.to));
  appendFilters(params, state.diff.filters, DIFF_PREFIX, true);
  return params;
}

/** The page's query string for a state (selection, diff, then ui.* parameters). */
export function stateToQuery(state: PageState): string {
  const params = diffParams(state);
  if (state.view !== 'flame') params.set('ui.view', state.view);
  if (state.zoom.length) params.set('ui.zoom', JSON.stringify(state.zoom));
  if (state.search) params.set('ui.search', state.search);
  if (state.fn) params.set('ui.fn', state.fn);
  if (state.highlight) params.set('ui.hl', state.highlight);
  if (state.live) params.set('ui.live', '1');
  return params.toString();
}

/** Which queries a change of state invalidates. */
export function sameSelection(a: PageState, b: PageState): boolean {
  return selectionParams(a).toString() === selectionParams(b).toString();
}

export function sameDiff(a: PageState, b: PageState): boolean {
  return diffParams(a).toString() === diffParams(b).toString();
}
