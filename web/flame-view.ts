import type { DrawStats } from './flame-renderer.js';
import { FlameRenderer } from './flame-renderer.js';

/** What the tooltip shows for a node: a title and label/value rows. */
export interface NodeDescription {
  readonly title: string;
  readonly rows: readonly (readonly [string, string])[];
}

export interface FlameViewOptions {
  readonly inverted?: boolean;
  describe(id: number): NodeDescription | null;
  onClick(id: number): void;
}

const TOOLTIP_OFFSET_PX = 14;

/** A flame renderer wired to the pointer: hover shows the tooltip, click reports the frame. */
export class FlameView {
  readonly renderer: FlameRenderer;
  private lastStats: DrawStats = { drawn: 0, labels: 0, ms: 0 };

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    private readonly options: FlameViewOptions,
  ) {
    this.renderer = new FlameRenderer(canvas, options.inverted ?? false);
    canvas.addEventListener('mousemove', (e) => this.hover(e));
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
      if (this.renderer.setHovered(-1)) this.draw();
    });
    canvas.addEventListener('click', (e) => {
      const id = this.pick(e);
      if (id >= 0) options.onClick(id);
    });
  }

  private pick(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    return this.renderer.nodeAtPoint(e.clientX - rect.left, e.clientY - rect.top);
  }

  private hover(e: MouseEvent): void {
    const id = this.pick(e);
    if (this.renderer.setHovered(id)) this.draw();
    const description = id >= 0 ? this.options.describe(id) : null;
    if (!description) {
      this.tooltip.hidden = true;
      this.canvas.style.cursor = 'default';
      return;
    }
    this.canvas.style.cursor = 'pointer';
    const title = document.createElement('div');
    title.className = 'tt-title';
    title.textContent = description.title;
    const table = document.createElement('table');
    for (const [label, value] of description.rows) {
      const tr = table.insertRow();
      tr.insertCell().textContent = label;
      tr.insertCell().textContent = value;
    }
    this.tooltip.replaceChildren(title, table);
    this.tooltip.hidden = false;
    const { innerWidth, innerHeight } = window;
    const box = this.tooltip.getBoundingClientRect();
    let x = e.clientX + TOOLTIP_OFFSET_PX;
    let y = e.clientY + TOOLTIP_OFFSET_PX;
    if (x + box.width > innerWidth - 4) x = Math.max(4, e.clientX - box.width - TOOLTIP_OFFSET_PX);
    if (y + box.height > innerHeight - 4) y = Math.max(4, e.clientY - box.height - TOOLTIP_OFFSET_PX);
    this.tooltip.style.left = `${x}px`;
    this.tooltip.style.top = `${y}px`;
  }

  draw(): DrawStats {
    this.lastStats = this.renderer.draw();
    return this.lastStats;
  }

  stats(): DrawStats {
    return this.lastStats;
  }
}
