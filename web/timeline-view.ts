import type { TimelineJson } from './api-types.js';
import { formatTime } from './format-value.js';

const HEIGHT_PX = 84;
const AXIS_PX = 16;
/** A press that moves less than this is a click, not a range. */
const MIN_DRAG_PX = 4;

export interface TimeMark {
  readonly from?: number;
  readonly to?: number;
}

/**
 * The selection's values over time as bars, with the chosen range (and diff range B) shaded.
 * Dragging picks a time range; a double click clears it.
 */
export class TimelineView {
  private data: TimelineJson | null = null;
  private marks: { a: TimeMark; b?: TimeMark } = { a: {} };
  private drag: { x0: number; x1: number } | null = null;
  private domain: [number, number] = [0, 1];

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly onSelect: (range: TimeMark) => void,
    private readonly formatValue: (v: number) => string,
  ) {
    canvas.addEventListener('mousedown', (e) => {
      if (!this.data?.points.length) return;
      const x = this.localX(e);
      this.drag = { x0: x, x1: x };
      e.preventDefault();
    });
    window.addEventListener('mousemove', (e) => {
      if (!this.drag) return;
      this.drag.x1 = this.localX(e);
      this.draw();
    });
    window.addEventListener('mouseup', () => {
      const drag = this.drag;
      this.drag = null;
      if (!drag) return;
      if (Math.abs(drag.x1 - drag.x0) < MIN_DRAG_PX) {
        this.draw();
        return;
      }
      const a = this.timeAt(Math.min(drag.x0, drag.x1));
      const b = this.timeAt(Math.max(drag.x0, drag.x1));
      this.onSelect({ from: Math.floor(a), to: Math.ceil(b) });
    });
    canvas.addEventListener('dblclick', () => this.onSelect({}));
  }

  private localX(e: MouseEvent): number {
    const rect = this.canvas.getBoundingClientRect();
    return Math.min(Math.max(e.clientX - rect.left, 0), rect.width);
  }

  private width(): number {
    return Math.max(1, this.canvas.parentElement?.clientWidth ?? this.canvas.clientWidth);
  }

  private timeAt(x: number): number {
    const [t0, t1] = this.domain;
    return t0 + (x / this.width()) * (t1 - t0);
  }

  private xAt(t: number): number {
    const [t0, t1] = this.domain;
    return ((t - t0) / (t1 - t0 || 1)) * this.width();
  }

  setData(data: TimelineJson | null): void {
    this.data = data;
    const points = data?.points ?? [];
    if (data && points.length) {
      this.domain = [
        (points[0] as readonly [number, number])[0],
        (points[points.length - 1] as readonly [number, number])[0] + data.step,
      ];
    }
  }

  setMarks(a: TimeMark, b?: TimeMark): void {
    this.marks = b ? { a, b } : { a };
  }

  /** The time span the chart shows, Unix ms. */
  getDomain(): [number, number] {
    return this.domain;
  }

  draw(): void {
    const canvas = this.canvas;
    const width = this.width();
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(HEIGHT_PX * dpr);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${HEIGHT_PX}px`;
    const ctx = canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, HEIGHT_PX);
    ctx.font = '11px "DejaVu Sans", sans-serif';
    const chartH = HEIGHT_PX - AXIS_PX;
    const data = this.data;
    if (!data || data.points.length === 0) {
      ctx.fillStyle = '#777';
      ctx.fillText('no samples in this selection', 8, chartH / 2);
      return;
    }
    const max = Math.max(...data.points.map((p) => p[1]), 1);
    const first = (data.points[0] as readonly [number, number])[0];
    const barW = Math.max(1, this.xAt(first + data.step) - this.xAt(first) - 1);
    ctx.fillStyle = '#5b8fd6';
    for (const [t, v] of data.points) {
      const h = (v / max) * (chartH - 14);
      ctx.fillRect(this.xAt(t), chartH - h, barW, h);
    }
    this.shade(ctx, this.marks.a, 'rgba(255, 170, 0, 0.25)', '#d98c00', chartH);
    if (this.marks.b) this.shade(ctx, this.marks.b, 'rgba(150, 60, 200, 0.22)', '#8a3cc8', chartH);
    if (this.drag) {
      const x = Math.min(this.drag.x0, this.drag.x1);
      ctx.fillStyle = 'rgba(0, 0, 0, 0.15)';
      ctx.fillRect(x, 0, Math.abs(this.drag.x1 - this.drag.x0), chartH);
    }
    ctx.fillStyle = '#444';
    ctx.textBaseline = 'top';
    ctx.fillText(
      `max ${this.formatValue(max)} per ${(data.step / 1000).toFixed(data.step < 1000 ? 3 : 0)} s`,
      4,
      2,
    );
    ctx.textBaseline = 'bottom';
    ctx.fillText(formatTime(this.domain[0]), 4, HEIGHT_PX - 2);
    const endText = formatTime(this.domain[1]);
    ctx.fillText(endText, width - ctx.measureText(endText).width - 4, HEIGHT_PX - 2);
  }

  private shade(ctx: CanvasRenderingContext2D, mark: TimeMark, fill: string, edge: string, h: number): void {
    if (mark.from === undefined && mark.to === undefined) return;
    const x0 = this.xAt(mark.from ?? this.domain[0]);
    const x1 = this.xAt(mark.to ?? this.domain[1]);
    ctx.fillStyle = fill;
    ctx.fillRect(x0, 0, x1 - x0, h);
    ctx.fillStyle = edge;
    ctx.fillRect(x0, 0, 1.5, h);
    ctx.fillRect(x1 - 1.5, 0, 1.5, h);
  }
}
