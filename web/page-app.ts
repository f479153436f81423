import type { FlameTreeJson, ProfileTypeInfo, StoredNotice, TimelineJson, TopFunction } from './api-types.js';
import {
  fetchDiff,
  fetchFlameGraph,
  fetchLabels,
  fetchProfileTypes,
  fetchRange,
  fetchSandwich,
  fetchSelectionTotal,
  fetchTimeline,
  fetchTop,
  fetchTraces,
} from './api-client.js';
import { byId, el } from './dom.js';
import { ErrorBanner } from './error-banner.js';
import { FilterBar } from './filter-bar.js';
import type { FlameModel } from './flame-model.js';
import { buildFlameModel, diffWeights, findByPath, isDiffTree, nodeName, pathOf } from './flame-model.js';
import type { MatchResult } from './flame-search.js';
import { matchTree, searchPredicate } from './flame-search.js';
import { FlameView } from './flame-view.js';
import type { ValueUnit } from './format-value.js';
import { formatShare, formatTime, formatValue, valueUnit } from './format-value.js';
import { HeaderControls } from './header-controls.js';
import type { LiveStatus } from './live-feed.js';
import { LiveFeed } from './live-feed.js';
import type { LoadTimings } from './load-timings.js';
import { describeNode, nodeColors } from './node-details.js';
import type { PageState } from './page-state.js';
import {
  diffParams,
  sameDiff,
  sameSelection,
  selectionParams,
  stateFromQuery,
  stateToQuery,
} from './page-state.js';
import type { TimeMark } from './timeline-view.js';
import { TimelineView } from './timeline-view.js';
import { TopTable } from './top-table.js';

/** The timeline aims for about this many bars over the stored range. */
const TIMELINE_BARS = 240;
const NO_COLORS = (): string => '#ccc';

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/**
 * The page: one state (mirrored in the URL), the queries it implies, and the views that show the
 * answers. A state change re-queries only what it invalidates; a live notice re-queries the data
 * and re-applies zoom (by frame path), search, sandwich and filters to the new tree.
 */
export class PageApp {
  state: PageState;
  private types: ProfileTypeInfo[] = [];
  private unit: ValueUnit = { type: 'value', unit: '' };
  private model: FlameModel | null = null;
  private sandwich: { callers: FlameModel; callees: FlameModel } | null = null;
  private search: MatchResult | null = null;
  private searchError = '';
  private top: TopFunction[] = [];
  /** Total of selection A: the top table's shares are of it in every view (a diff or sandwich tree has another root). */
  private selectionTotal = 0;
  private timeline: TimelineJson | null = null;
  private loads = new Map<string, AbortController>();
  private pending = 0;
  private idleWaiters: (() => void)[] = [];
  private liveStatus: LiveStatus = 'off';
  private liveRefreshes = 0;
  private liveQueued = false;
  private lastNotice: StoredNotice | null = null;
  private graphLoads = 0;
  lastLoad: LoadTimings | null = null;

  readonly flame: FlameView;
  readonly callers: FlameView;
  readonly callees: FlameView;
  private readonly timelineView: TimelineView;
  private readonly topTable: TopTable;
  private readonly filtersA: FilterBar;
  private readonly filtersB: FilterBar;
  private readonly live: LiveFeed;
  private readonly controls: HeaderControls;
  private readonly errors = new ErrorBanner();

  constructor() {
    this.state = stateFromQuery(location.search);
    const tooltip = byId('tooltip');
    this.flame = new FlameView(byId<HTMLCanvasElement>('flame'), tooltip, {
      describe: (id) =>
        this.model ? describeNode(this.model, id, this.flame.renderer.getFocus(), this.unit) : null,
      onClick: (id) => this.zoomTo(id),
    });
    const sandwichSide = (side: 'callers' | 'callees', inverted: boolean): FlameView =>
      new FlameView(byId<HTMLCanvasElement>(side), tooltip, {
        inverted,
        describe: (id) =>
          this.sandwich ? describeNode(this.sandwich[side], id, 0, this.unit, this.state.fn ?? 'all') : null,
        onClick: (id) => {
          const m = this.sandwich?.[side];
          if (m && id > 0) this.update({ fn: nodeName(m.tree, id) });
        },
      });
    this.callers = sandwichSide('callers', true);
    this.callees = sandwichSide('callees', false);
    this.timelineView = new TimelineView(
      byId<HTMLCanvasElement>('timeline'),
      (range) => this.onTimelineSelect(range),
      (v) => formatValue(v, this.unit),
    );
    this.topTable = new TopTable(byId<HTMLTableElement>('top-table'), {
      onHighlight: (name) => this.update({ highlight: name ?? undefined }),
      onSandwich: (name) => this.update({ view: 'sandwich', fn: name }),
    });
    this.filtersA = new FilterBar(byId('filters-a'), (filters) => this.update({ filters }));
    this.filtersB = new FilterBar(
      byId('filters-b'),
      (filters) => this.update({ diff: { ...this.state.diff, filters } }),
      true,
    );
    this.live = new LiveFeed(
      (notice) => this.onStored(notice),
      (status) => {
        this.liveStatus = status;
        this.renderLiveStatus();
      },
    );
    this.controls = new HeaderControls({
      update: (change, replace) => this.update(change, replace),
      current: () => this.state,
      showError: (source, err) => this.errors.show(source, err),
      clearError: (source) => this.errors.clear(source),
      sandwichDefault: () => this.focusedFunction(),
    });
    window.addEventListener('popstate', () => this.apply(stateFromQuery(location.search)));
    window.addEventListener('resize', () => this.redrawAll());
    // Escape zooms out one frame (not while typing in a field, where it belongs to the field).
    window.addEventListener('keydown', (e) => {
      const target = e.target as HTMLElement | null;
      if (e.key !== 'Escape' || target?.closest('input, select, textarea')) return;
      if (this.state.view !== 'sandwich' && this.state.zoom.length)
        this.update({ zoom: this.state.zoom.slice(0, -1) });
    });
  }

  async start(): Promise<void> {
    await this.track('types', async (signal) => {
      this.types = await fetchProfileTypes(signal);
    });
    this.renderControls();
    this.apply(this.state, true);
  }

  // ---- state ----

  /** A user action: new state, pushed to history (search typing replaces instead). */
  update(change: Partial<PageState>, replace = false): void {
    const next: PageState = { ...this.state, ...change };
    const query = stateToQuery(next);
    const url = `${location.pathname}${query ? `?${query}` : ''}`;
    if (replace) history.replaceState(null, '', url);
    else history.pushState(null, '', url);
    this.apply(next);
  }

  private apply(next: PageState, first = false): void {
    const prev = this.state;
    this.state = next;
    const selectionChanged = first || !sameSelection(prev, next);
    const viewChanged = first || prev.view !== next.view;
    if (selectionChanged || next.type !== prev.type) {
      void this.loadTimeline();
      void this.loadTop();
      void this.loadLabels();
      void this.loadTraces();
    }
    if (
      selectionChanged ||
      viewChanged ||
      (next.view === 'diff' && !sameDiff(prev, next)) ||
      (next.view === 'sandwich' && next.fn !== prev.fn)
    ) {
      void this.loadGraph();
    } else {
      this.refreshGraphState();
    }
    if (next.live !== this.live.running) {
      if (next.live) this.live.start();
      else this.live.stop();
    }
    this.renderControls();
  }

  // ---- loading ----

  /** Runs one named load; a newer load of the same name aborts the older one. */
  private async track(name: string, body: (signal: AbortSignal) => Promise<void>): Promise<void> {
    this.loads.get(name)?.abort();
    const controller = new AbortController();
    this.loads.set(name, controller);
    this.pending++;
    try {
      await body(controller.signal);
      this.errors.clear(name);
    } catch (err) {
      if (!isAbort(err)) this.errors.show(name, err);
    } finally {
      if (this.loads.get(name) === controller) this.loads.delete(name);
      this.pending--;
      if (this.pending === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  /** Resolves once no query is in flight (the test hook waits on it). */
  idle(): Promise<void> {
    return this.pending === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private typeInfo(): ProfileTypeInfo | undefined {
    const id = this.state.type;
    return (
      this.types.find((t) => t.id === id) ??
      (id ? undefined : (this.types.find((t) => t.id === 'samples/count') ?? this.types[0]))
    );
  }

  loadGraph(): Promise<void> {
    const state = this.state;
    if (state.view === 'sandwich') {
      this.model = null;
      if (!state.fn) {
        this.sandwich = null;
        this.renderGraph();
        return Promise.resolve();
      }
      const fn = state.fn;
      return this.track('graph', async (signal) => {
        const answer = await fetchSandwich(selectionParams(state), fn, signal);
        this.sandwich = {
          callers: buildFlameModel(answer.callers),
          callees: buildFlameModel(answer.callees),
        };
        this.setUnit(answer.callees);
        this.graphLoads++;
        this.renderGraph();
      });
    }
    return this.track('graph', async (signal) => {
      const t0 = performance.now();
      const tree =
        state.view === 'diff'
          ? await fetchDiff(diffParams(state), signal)
          : await fetchFlameGraph(selectionParams(state), signal);
      const fetchedMs = performance.now() - t0;
      const model = buildFlameModel(tree, isDiffTree(tree) ? diffWeights(tree) : undefined);
      const modelMs = performance.now() - t0;
      this.model = model;
      this.sandwich = null;
      this.setUnit(tree);
      this.graphLoads++;
      this.renderGraph();
      const drawnMs = performance.now() - t0;
      await nextFrame();
      this.lastLoad = {
        nodes: model.size,
        fetchedMs,
        modelMs,
        drawnMs,
        paintedMs: performance.now() - t0,
        drawn: this.flame.stats().drawn,
      };
    });
  }

  private setUnit(tree: FlameTreeJson): void {
    this.unit = valueUnit(
      this.typeInfo() ?? this.types.find((t) => t.id === tree.type),
      tree.type ?? (tree.unit ? `value/${tree.unit}` : undefined),
    );
  }

  private loadTimeline(): Promise<void> {
    const state = this.state;
    // The timeline shows the whole stored time of the selection so a range can be picked from it.
    const params = selectionParams({ ...state, from: undefined, to: undefined });
    return this.track('timeline', async (signal) => {
      const range = await fetchRange(params, signal);
      const span = range.from !== null && range.to !== null ? range.to - range.from : 0;
      const step = span > 0 ? Math.max(1000, Math.ceil(span / TIMELINE_BARS / 1000) * 1000) : undefined;
      this.timeline = await fetchTimeline(params, step, signal);
      this.timelineView.setData(this.timeline);
      this.drawTimeline();
    });
  }

  private loadTop(): Promise<void> {
    const params = selectionParams(this.state);
    return this.track('top', async (signal) => {
      const [top, total] = await Promise.all([fetchTop(params, signal), fetchSelectionTotal(params, signal)]);
      this.top = top;
      this.selectionTotal = total;
      this.renderTop();
    });
  }

  private loadLabels(): Promise<void> {
    // Pickers offer every value of the type and time range, not only those the other filters leave.
    const params = selectionParams({ ...this.state, filters: new Map(), traceId: undefined });
    return this.track('labels', async (signal) => {
      const labels = await fetchLabels(params, signal);
      this.filtersA.setLabels(labels);
      this.filtersB.setLabels(labels);
    });
  }

  private loadTraces(): Promise<void> {
    const params = selectionParams({ ...this.state, traceId: undefined, spanId: undefined });
    return this.track('traces', async (signal) => {
      const traces = await fetchTraces(params, signal);
      byId('trace-list').replaceChildren(
        ...traces.map((t) =>
          el('option', { value: t.traceId, text: `${t.samples} samples, ${t.spanIds} spans` }),
        ),
      );
    });
  }

  // ---- live ----

  private onStored(notice: StoredNotice): void {
    this.lastNotice = notice;
    if (this.pending > 0) {
      // A refresh is running: one more after it covers every notice that arrived meanwhile.
      if (!this.liveQueued) {
        this.liveQueued = true;
        void this.idle().then(() => {
          this.liveQueued = false;
          this.liveRefresh();
        });
      }
      return;
    }
    this.liveRefresh();
  }

  private liveRefresh(): void {
    this.liveRefreshes++;
    void this.loadGraph();
    void this.loadTimeline();
    void this.loadTop();
    void this.loadLabels();
    this.renderLiveStatus();
  }

  private renderLiveStatus(): void {
    const status = byId('live-status');
    const notice = this.lastNotice;
    status.textContent =
      this.liveStatus === 'off'
        ? ''
        : this.liveStatus === 'live' && notice
          ? `· data to ${formatTime(notice.to).slice(11)}`
          : `· ${this.liveStatus}`;
  }

  // ---- interaction ----

  private zoomTo(id: number): void {
    if (!this.model) return;
    this.update({ zoom: pathOf(this.model, id) });
  }

  private onTimelineSelect(range: TimeMark): void {
    if (this.controls.dragSetsB())
      this.update({ diff: { ...this.state.diff, from: range.from, to: range.to } });
    else this.update({ from: range.from, to: range.to });
  }

  /** The zoomed frame's function, else the top table's first row: what a sandwich opens on. */
  private focusedFunction(): string | undefined {
    const focus = this.flame.renderer.getFocus();
    if (this.model && focus > 0) return nodeName(this.model.tree, focus);
    return this.state.highlight ?? this.top[0]?.name;
  }

  // ---- rendering ----

  private renderControls(): void {
    const state = this.state;
    this.controls.render(state, this.types, this.typeInfo()?.id ?? state.type ?? '');
    this.filtersA.setFilters(state.filters);
    this.filtersB.setBase(state.filters);
    this.filtersB.setFilters(state.diff.filters);
    this.topTable.setHighlight(state.highlight);
    this.drawTimeline();
  }

  private drawTimeline(): void {
    const state = this.state;
    this.timelineView.setMarks(
      { from: state.from, to: state.to },
      state.view === 'diff'
        ? { from: state.diff.from ?? state.from, to: state.diff.to ?? state.to }
        : undefined,
    );
    this.timelineView.draw();
  }

  private renderTop(): void {
    this.topTable.setRows(this.top, this.unit, this.selectionTotal);
  }

  /** New data: colours, then zoom/search/highlight re-applied by path and name. */
  private renderGraph(): void {
    const sandwichMode = this.state.view === 'sandwich';
    byId('flame-box').hidden = sandwichMode;
    byId('sandwich-box').hidden = !sandwichMode;
    if (sandwichMode) {
      const s = this.sandwich;
      this.callers.renderer.setModel(s?.callers ?? null, s ? nodeColors(s.callers) : NO_COLORS);
      this.callees.renderer.setModel(s?.callees ?? null, s ? nodeColors(s.callees) : NO_COLORS);
      byId('sandwich-fn').textContent = this.state.fn ?? '(pick a function: click a table row’s ⇅)';
      byId('sandwich-fn2').textContent = this.state.fn ?? '';
    } else {
      this.flame.renderer.setModel(this.model, this.model ? nodeColors(this.model) : NO_COLORS);
    }
    this.renderTop();
    this.refreshGraphState();
  }

  /** Zoom, search and highlight on the current data, then draw. */
  private refreshGraphState(): void {
    const state = this.state;
    const predicate = state.search.trim() ? searchPredicate(state.search) : null;
    this.searchError = predicate && !predicate.ok ? predicate.error : '';
    const test = predicate?.ok ? predicate.test : null;
    this.topTable.setFilter(test);
    const apply = (
      view: FlameView,
      model: FlameModel | null,
      zoom: readonly string[],
    ): MatchResult | null => {
      if (!model) return null;
      view.renderer.setFocus(findByPath(model, zoom).id);
      const found = test ? matchTree(model, test) : null;
      view.renderer.setMatches(found?.matched ?? null);
      const hl = state.highlight;
      view.renderer.setMarked(hl ? matchTree(model, (n) => n === hl).matched : null);
      return found;
    };
    if (state.view === 'sandwich') {
      this.search = apply(this.callees, this.sandwich?.callees ?? null, []);
      apply(this.callers, this.sandwich?.callers ?? null, []);
    } else {
      this.search = apply(this.flame, this.model, state.zoom);
    }
    this.renderSearchResult();
    this.renderBreadcrumbs();
    this.redrawAll();
  }

  private redrawAll(): void {
    if (this.state.view === 'sandwich') {
      this.callers.draw();
      this.callees.draw();
    } else this.flame.draw();
    this.drawTimeline();
  }

  private searchText(): string {
    if (this.searchError) return this.searchError;
    const found = this.search;
    const model = this.state.view === 'sandwich' ? this.sandwich?.callees : this.model;
    if (!found || !model) return '';
    const root = model.tree.total[0] as number;
    let text = `${found.nodes} frames · ${formatValue(found.total, this.unit)} · ${formatShare(found.total, root)} of all`;
    const diff = isDiffTree(model.tree) ? model.tree : null;
    if (diff && found.totalB !== undefined) {
      text += ` | B: ${formatValue(found.totalB, this.unit)} · ${formatShare(found.totalB, diff.totalB[0] as number)}`;
    }
    return text;
  }

  private renderSearchResult(): void {
    byId('search-result').textContent = this.searchText();
  }

  private renderBreadcrumbs(): void {
    const crumbs = byId('breadcrumbs');
    const summary = byId('summary');
    const model = this.model;
    if (this.state.view === 'sandwich' || !model) {
      crumbs.replaceChildren();
      const s = this.sandwich;
      summary.textContent = s
        ? `${this.state.fn}: total ${formatValue(s.callees.tree.total[0] as number, this.unit)}`
        : '';
      return;
    }
    const focus = this.flame.renderer.getFocus();
    const path = pathOf(model, focus);
    const parts: (Node | string)[] = [];
    const crumb = (label: string, zoom: readonly string[]): HTMLButtonElement => {
      const b = el('button', { text: label, title: label });
      b.addEventListener('click', () => this.update({ zoom: [...zoom] }));
      return b;
    };
    parts.push(crumb('all', []));
    path.forEach((name, i) =>
      parts.push(el('span', { className: 'sep', text: '›' }), crumb(name, path.slice(0, i + 1))),
    );
    if (path.length) {
      const reset = el('button', {
        text: 'reset zoom',
        className: 'reset',
        title: 'Esc zooms out one frame',
      });
      reset.addEventListener('click', () => this.update({ zoom: [] }));
      const sandwich = el('button', { text: `sandwich of ${path[path.length - 1]}`, className: 'reset' });
      sandwich.addEventListener('click', () => this.update({ view: 'sandwich', fn: path[path.length - 1] }));
      parts.push(' ', reset, sandwich);
    }
    if (this.state.zoom.length > path.length) {
      parts.push(
        el('span', {
          className: 'muted',
          text: ` (frame ${this.state.zoom.slice(path.length).join(' › ')} not in this data)`,
        }),
      );
    }
    crumbs.replaceChildren(...parts);
    const tree = model.tree;
    let text = `total ${formatValue(tree.total[0] as number, this.unit)}`;
    if (isDiffTree(tree))
      text = `A ${formatValue(tree.total[0] as number, this.unit)} · B ${formatValue(tree.totalB[0] as number, this.unit)}`;
    text += ` · ${model.size.toLocaleString('en-US')} nodes`;
    if (tree.truncated > 0) text += ` (${tree.truncated.toLocaleString('en-US')} small nodes left out)`;
    if (this.state.traceId) text += ` · trace ${this.state.traceId}`;
    summary.textContent = text;
  }

  // ---- test hook ----

  /** Read-only view of what the page shows, for tests (window.__flame). */
  snapshot(): Record<string, unknown> {
    const state = this.state;
    const model = this.model;
    const focus = this.flame.renderer.getFocus();
    const diff = model && isDiffTree(model.tree) ? model.tree : null;
    return {
      view: state.view,
      type: this.typeInfo()?.id ?? null,
      unit: this.unit,
      from: state.from ?? null,
      to: state.to ?? null,
      filters: Object.fromEntries(state.filters),
      diffFilters: Object.fromEntries(state.diff.filters),
      diffFrom: state.diff.from ?? null,
      diffTo: state.diff.to ?? null,
      traceId: state.traceId ?? null,
      zoomPath: [...state.zoom],
      focusPath: model ? pathOf(model, focus) : [],
      focusTotal: model ? model.tree.total[focus] : null,
      rootTotal: model ? model.tree.total[0] : null,
      rootTotalB: diff ? diff.totalB[0] : null,
      nodes: model?.size ?? 0,
      drawn: this.flame.stats().drawn,
      labels: this.flame.stats().labels,
      search: state.search,
      searchText: byId('search-result').textContent,
      matchNodes: this.search?.nodes ?? 0,
      matchTotal: this.search?.total ?? null,
      highlight: state.highlight ?? null,
      topNames: this.topTable.visibleNames(),
      topSort: this.topTable.getSort(),
      sandwichFn: state.view === 'sandwich' ? (state.fn ?? null) : null,
      callersNodes: this.sandwich?.callers.size ?? 0,
      calleesNodes: this.sandwich?.callees.size ?? 0,
      calleesDrawn: this.callees.stats().drawn,
      callersDrawn: this.callers.stats().drawn,
      timelinePoints: this.timeline?.points.length ?? 0,
      timelineDomain: this.timelineView.getDomain(),
      live: this.liveStatus,
      liveRefreshes: this.liveRefreshes,
      graphLoads: this.graphLoads,
      pprofHref: byId<HTMLAnchorElement>('pprof-link').href,
      errors: this.errors.current(),
      summary: byId('summary').textContent,
      lastLoad: this.lastLoad,
    };
  }

  /** Where a frame (first by pre-order with that name) is drawn, in page coordinates. */
  frameRect(
    name: string,
    which: 'flame' | 'callers' | 'callees' = 'flame',
  ): { x: number; y: number; w: number; h: number } | null {
    const view = which === 'flame' ? this.flame : which === 'callers' ? this.callers : this.callees;
    const model = view.renderer.getModel();
    if (!model) return null;
    for (let p = 0; p < model.size; p++) {
      const id = model.order[p] as number;
      if (nodeName(model.tree, id) !== name) continue;
      const r = view.renderer.nodeRect(id);
      if (!r) continue;
      const box = view.canvas.getBoundingClientRect();
      return { x: box.left + window.scrollX + r.x, y: box.top + window.scrollY + r.y, w: r.w, h: r.h };
    }
    return null;
  }

  /** Redraw of the current tree (the page benchmark's re-zoom figure). */
  timeRedraw(): number {
    return this.flame.draw().ms;
  }
}
