import type { LabelValue } from './api-types.js';
import { el } from './dom.js';
import { formatInt } from './format-value.js';
import type { Filters } from './page-state.js';

/** Attribute keys users reach for first (profiling UIs' selectors); the rest follow by name. */
const PREFERRED_KEYS = [
  'service.name',
  'k8s.node.name',
  'host.name',
  'k8s.namespace.name',
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.pod.name',
  'k8s.container.name',
  'process.executable.name',
  'process.pid',
  'thread.name',
];

/** `k8s.namespace.name` -> `namespace`. */
export function shortKey(key: string): string {
  return key.replace(/^k8s\./, '').replace(/\.name$/, '');
}

function keyRank(key: string): number {
  const i = PREFERRED_KEYS.indexOf(key);
  return i < 0 ? PREFERRED_KEYS.length : i;
}

/** Option value meaning "drop A's filter on this key" in a diff's selection B. */
const ALL_VALUES = '\u0000all';

/**
 * One picker per attribute key, filled from /api/labels; chosen values show as removable chips
 * (several values of a key = OR). In `overrides` mode (diff selection B) a key can also be set to
 * "all values", which removes selection A's filter on it.
 */
export class FilterBar {
  private labels: Record<string, readonly LabelValue[]> = {};
  private filters: Filters = new Map();
  /** Overrides mode: selection A's filters, whose keys B shows a picker for. */
  private base: Filters = new Map();
  /** Overrides mode: keys the user opened a picker for, before choosing a value. */
  private readonly opened = new Set<string>();

  constructor(
    readonly container: HTMLElement,
    private readonly onChange: (filters: Filters) => void,
    private readonly overrides = false,
  ) {}

  setLabels(labels: Record<string, readonly LabelValue[]>): void {
    this.labels = labels;
    this.render();
  }

  setFilters(filters: Filters): void {
    this.filters = filters;
    this.render();
  }

  /** Overrides mode: A's filters (B pickers show what B inherits). */
  setBase(filters: Filters): void {
    this.base = filters;
    this.render();
  }

  private change(key: string, values: readonly string[] | null): void {
    const next = new Map(this.filters);
    if (values === null) next.delete(key);
    else next.set(key, values);
    this.onChange(next);
  }

  private render(): void {
    const keys = [...new Set([...Object.keys(this.labels), ...this.filters.keys()])].sort(
      (a, b) => keyRank(a) - keyRank(b) || a.localeCompare(b),
    );
    if (keys.length === 0) {
      this.container.replaceChildren(
        el('span', { className: 'muted', text: 'no attributes in this selection' }),
      );
      return;
    }
    // Pickers for the keys users reach for first (and any key in use); the rest one "add" menu
    // away: a picker for each of ~20 attributes buried the graph. Selection B is A plus overrides,
    // so B shows pickers only for keys A filters or B overrides.
    const shown = keys.filter(
      (k) =>
        this.filters.has(k) ||
        this.base.has(k) ||
        this.opened.has(k) ||
        (!this.overrides && PREFERRED_KEYS.includes(k)),
    );
    const hidden = keys.filter((k) => !shown.includes(k));
    const add = el(
      'select',
      { className: 'add-key', 'aria-label': this.overrides ? 'add a filter to B' : 'more filters' },
      [
        el('option', {
          value: '',
          text: this.overrides
            ? `${shown.length ? '' : 'same filters as A; '}+ filter B by…`
            : `+ ${hidden.length} more attributes…`,
        }),
        ...hidden.map((k) => el('option', { value: k, text: k })),
      ],
    );
    add.addEventListener('change', () => {
      if (!add.value) return;
      this.opened.add(add.value);
      this.render();
    });
    // Short labels (`namespace`) unless two shown keys would read the same (`container`).
    const shorts = shown.map(shortKey);
    const label = (key: string): string =>
      shorts.filter((x) => x === shortKey(key)).length > 1 ? key : shortKey(key);
    this.container.replaceChildren(
      ...shown.map((key) => this.picker(key, label(key))),
      ...(hidden.length ? [add] : []),
    );
  }

  private emptyText(key: string, chosen: readonly string[] | undefined): string {
    if (chosen?.length) return '+ or…';
    const inherited = this.overrides && chosen === undefined ? this.base.get(key) : undefined;
    return inherited?.length ? `as A (${inherited.join(' | ')})` : 'any';
  }

  private picker(key: string, label: string): HTMLElement {
    const chosen = this.filters.get(key);
    const values = this.labels[key] ?? [];
    const select = el('select', { 'data-key': key, title: key, 'aria-label': `filter ${key}` }, [
      el('option', { value: '', text: this.emptyText(key, chosen) }),
      ...(this.overrides ? [el('option', { value: ALL_VALUES, text: 'all values (drop A’s filter)' })] : []),
      ...values
        .filter((v) => !chosen?.includes(v.value))
        .map((v) => el('option', { value: v.value, text: `${v.value}  (${formatInt(Number(v.samples))})` })),
    ]);
    select.addEventListener('change', () => {
      const value = select.value;
      if (value === '') return;
      this.change(key, value === ALL_VALUES ? [] : [...(chosen ?? []), value]);
    });
    const chips = (chosen ?? []).map((value) => {
      const remove = el('button', { className: 'chip-x', title: `remove ${key}=${value}`, text: '×' });
      remove.addEventListener('click', () => {
        const rest = (chosen ?? []).filter((v) => v !== value);
        this.change(key, rest.length ? rest : null);
      });
      return el('span', { className: 'chip', 'data-key': key, 'data-value': value }, [value, remove]);
    });
    if (this.overrides && chosen && chosen.length === 0) {
      const remove = el('button', { className: 'chip-x', title: `keep A's filter on ${key}`, text: '×' });
      remove.addEventListener('click', () => this.change(key, null));
      chips.push(el('span', { className: 'chip', 'data-key': key }, ['all values', remove]));
    }
    return el('label', { className: `picker${chosen ? ' active' : ''}` }, [
      el('span', { className: 'key', text: label }),
      ...chips,
      select,
    ]);
  }
}
