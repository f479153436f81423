import type { ProfileTypeInfo } from './api-types.js';
import { pprofUrl } from './api-client.js';
import { byId, el } from './dom.js';
import { DIFF_NEUTRAL, FRAME_KINDS, diffColor, kindColor } from './flame-colors.js';
import { formatTime } from './format-value.js';
import type { PageState, ViewMode } from './page-state.js';
import { selectionParams } from './page-state.js';

/** Typing in the search box updates the graph after this pause. */
const SEARCH_DEBOUNCE_MS = 150;
const TRACE_ID = /^[0-9a-f]{32}$/;
const SPAN_ID = /^[0-9a-f]{16}$/;

export interface ControlHandlers {
  /** A change of state from a control (`replace`: no new history entry). */
  update(change: Partial<PageState>, replace?: boolean): void;
  current(): PageState;
  showError(source: string, err: unknown): void;
  clearError(source: string): void;
  /** What the sandwich tab opens on when no function is chosen yet. */
  sandwichDefault(): string | undefined;
}

/** `2026-12-07 10:00:00Z`, RFC 3339 or Unix ms; empty = open end. */
function parseTimeInput(text: string): number | undefined | 'invalid' {
  const t = text.trim();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return Number(t);
  const ms = Date.parse(t.replace(' ', 'T'));
  return Number.isFinite(ms) ? ms : 'invalid';
}

/**
 * The page's controls outside the graph: profile type, time inputs (A and diff B), trace box, live
 * toggle, view tabs, search box, pprof link and legend. Input is checked here (a clear message
 * instead of a query the server would refuse); `render` mirrors a state back into them.
 */
export class HeaderControls {
  private searchTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly handlers: ControlHandlers) {
    const update = (change: Partial<PageState>, replace?: boolean): void => handlers.update(change, replace);
    const current = (): PageState => handlers.current();
    const showError = (source: string, err: unknown): void => handlers.showError(source, err);
    const clearError = (source: string): void => handlers.clearError(source);
    const typePicker = byId<HTMLSelectElement>('type-picker');
    typePicker.addEventListener('change', () => update({ type: typePicker.value || undefined }));
    const timeInput = (id: string, set: (ms: number | undefined) => void): void => {
      const input = byId<HTMLInputElement>(id);
      input.addEventListener('change', () => {
        const ms = parseTimeInput(input.value);
        if (ms === 'invalid') {
          const field = id.replace('-input', '');
          showError(
            'time',
            new Error(
              `${field}: "${input.value}" is not a time; use e.g. 2026-12-07 10:00:00Z or Unix milliseconds`,
            ),
          );
          return;
        }
        clearError('time');
        set(ms);
      });
    };
    timeInput('from-input', (from) => update({ from }));
    timeInput('to-input', (to) => update({ to }));
    timeInput('diff-from-input', (from) => update({ diff: { ...current().diff, from } }));
    timeInput('diff-to-input', (to) => update({ diff: { ...current().diff, to } }));
    byId('range-clear').addEventListener('click', () => update({ from: undefined, to: undefined }));

    const traceInput = byId<HTMLInputElement>('trace-input');
    const spanInput = byId<HTMLInputElement>('span-input');
    byId<HTMLFormElement>('trace-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const traceId = traceInput.value.trim().toLowerCase();
      const spanId = spanInput.value.trim().toLowerCase();
      const problem =
        traceId && !TRACE_ID.test(traceId)
          ? `trace id "${traceInput.value}": expected 32 hex characters`
          : spanId && !SPAN_ID.test(spanId)
            ? `span id "${spanInput.value}": expected 16 hex characters`
            : spanId && !traceId
              ? 'span id: enter the trace id it belongs to as well'
              : '';
      if (problem) {
        showError('trace', new Error(problem));
        return;
      }
      clearError('trace');
      update({ traceId: traceId || undefined, spanId: spanId || undefined, zoom: [] });
    });
    byId('trace-clear').addEventListener('click', () => update({ traceId: undefined, spanId: undefined }));

    const live = byId<HTMLInputElement>('live-toggle');
    live.addEventListener('change', () => update({ live: live.checked }));

    for (const button of document.querySelectorAll<HTMLButtonElement>('.tabs button')) {
      button.addEventListener('click', () => {
        const view = button.dataset.view as ViewMode;
        const state = current();
        const fn = view === 'sandwich' && !state.fn ? handlers.sandwichDefault() : state.fn;
        update({ view, fn });
      });
    }
    const search = byId<HTMLInputElement>('search-input');
    search.addEventListener('input', () => {
      clearTimeout(this.searchTimer);
      this.searchTimer = setTimeout(() => update({ search: search.value }, true), SEARCH_DEBOUNCE_MS);
    });
  }

  /** Whether a timeline drag sets selection B (diff view, "B" chosen). */
  dragSetsB(): boolean {
    return this.handlers.current().view === 'diff' && byId<HTMLInputElement>('drag-b').checked;
  }

  render(state: PageState, types: readonly ProfileTypeInfo[], currentType: string): void {
    const typePicker = byId<HTMLSelectElement>('type-picker');
    typePicker.replaceChildren(
      ...types.map((t) =>
        el('option', { value: t.id, text: t.id, title: `${t.samples} stored sample rows` }),
      ),
    );
    if (state.type && !types.some((t) => t.id === state.type)) {
      typePicker.append(el('option', { value: state.type, text: `${state.type} (no data)` }));
    }
    typePicker.value = currentType;
    // A field being edited keeps what the user typed.
    const setInput = (id: string, value: string): void => {
      const input = byId<HTMLInputElement>(id);
      if (document.activeElement !== input) input.value = value;
    };
    const time = (ms: number | undefined): string => (ms === undefined ? '' : formatTime(ms));
    setInput('from-input', time(state.from));
    setInput('to-input', time(state.to));
    setInput('diff-from-input', time(state.diff.from));
    setInput('diff-to-input', time(state.diff.to));
    setInput('trace-input', state.traceId ?? '');
    setInput('span-input', state.spanId ?? '');
    setInput('search-input', state.search);
    byId<HTMLInputElement>('live-toggle').checked = state.live;
    for (const button of document.querySelectorAll<HTMLButtonElement>('.tabs button')) {
      button.classList.toggle('selected', button.dataset.view === state.view);
    }
    byId('diff-panel').hidden = state.view !== 'diff';
    byId<HTMLAnchorElement>('pprof-link').href = pprofUrl(selectionParams(state));
    this.renderLegend(state.view);
  }

  private renderLegend(view: ViewMode): void {
    const item = (color: string, text: string): HTMLElement =>
      el('span', {}, [el('span', { className: 'swatch', style: `background:${color}` }), text]);
    byId('legend').replaceChildren(
      ...(view === 'diff'
        ? [
            item(diffColor(1, 1, false), 'grew in B'),
            item(diffColor(-1, 1, false), 'shrank in B'),
            item(DIFF_NEUTRAL, 'same share'),
          ]
        : FRAME_KINDS.map((kind) => item(kindColor(kind), kind))),
    );
  }
}
