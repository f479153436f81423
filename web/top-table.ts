import type { TopFunction } from './api-types.js';
import { el } from './dom.js';
import { frameKind, kindColor } from './flame-colors.js';
import type { ValueUnit } from './format-value.js';
import { formatShare, formatValue } from './format-value.js';

export type TopSort = 'self' | 'total';

export interface TopTableHandlers {
  /** A row was clicked: highlight that function in the graph (null: clear). */
  onHighlight(name: string | null): void;
  /** The row's sandwich button. */
  onSandwich(name: string): void;
}

/**
 * Top functions by self or total (click a header to sort); the search box filters the rows too,
 * with the same predicate that highlights the graph.
 */
export class TopTable {
  private rows: readonly TopFunction[] = [];
  private sort: TopSort = 'self';
  private filter: ((name: string) => boolean) | null = null;
  private highlight: string | undefined;
  private unit: ValueUnit = { type: 'value', unit: '' };
  private rootTotal = 0;
  private readonly body: HTMLTableSectionElement;
  private readonly headers: Record<TopSort, HTMLTableCellElement>;

  constructor(
    readonly table: HTMLTableElement,
    private readonly handlers: TopTableHandlers,
  ) {
    const self = el('th', { className: 'num sortable', 'data-sort': 'self', title: 'sort by self' }, [
      'Self',
    ]);
    const total = el('th', { className: 'num sortable', 'data-sort': 'total', title: 'sort by total' }, [
      'Total',
    ]);
    this.headers = { self, total };
    for (const key of ['self', 'total'] as const) {
      this.headers[key].addEventListener('click', () => {
        this.sort = key;
        this.render();
      });
    }
    this.body = el('tbody');
    table.replaceChildren(
      el('thead', {}, [el('tr', {}, [el('th', {}, ['Function']), self, total, el('th')])]),
      this.body,
    );
    this.body.addEventListener('click', (e) => {
      const target = e.target as HTMLElement;
      const row = target.closest('tr');
      const name = row?.dataset.name;
      if (name === undefined) return;
      if (target.closest('button')) handlers.onSandwich(name);
      else handlers.onHighlight(this.highlight === name ? null : name);
    });
  }

  setRows(rows: readonly TopFunction[], unit: ValueUnit, rootTotal: number): void {
    this.rows = rows;
    this.unit = unit;
    this.rootTotal = rootTotal;
    this.render();
  }

  setFilter(filter: ((name: string) => boolean) | null): void {
    this.filter = filter;
    this.render();
  }

  setHighlight(name: string | undefined): void {
    this.highlight = name;
    this.render();
  }

  getSort(): TopSort {
    return this.sort;
  }

  /** Names shown, in order (the test hook reads them). */
  visibleNames(): string[] {
    return [...this.body.querySelectorAll('tr')].map((tr) => tr.dataset.name ?? '');
  }

  private render(): void {
    const key = this.sort;
    for (const k of ['self', 'total'] as const) this.headers[k].classList.toggle('sorted', k === key);
    const filter = this.filter;
    const rows = this.rows
      .filter((r) => !filter || filter(r.name))
      .sort((a, b) => Number(b[key]) - Number(a[key]) || a.name.localeCompare(b.name));
    this.body.replaceChildren(
      ...rows.map((r) => {
        const self = Number(r.self);
        const total = Number(r.total);
        const tr = el('tr', { className: r.name === this.highlight ? 'highlighted' : undefined }, [
          el('td', { className: 'fn', title: `${r.name} (${r.frameType || 'unknown'})` }, [
            el('span', { className: 'swatch', style: `background:${kindColor(frameKind(r.frameType))}` }),
            r.name,
          ]),
          el('td', { className: 'num', title: formatValue(self, this.unit) }, [
            formatShare(self, this.rootTotal),
          ]),
          el('td', { className: 'num', title: formatValue(total, this.unit) }, [
            formatShare(total, this.rootTotal),
          ]),
          el('td', {}, [
            el('button', { className: 'mini', title: `callers and callees of ${r.name}` }, ['⇅']),
          ]),
        ]);
        tr.dataset.name = r.name;
        return tr;
      }),
    );
  }
}
