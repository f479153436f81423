import type { FlameModel } from './flame-model.js';
import { nodeAt } from './flame-model.js';

/** A node's fill colour. */
export type ColorOf = (id: number) => string;

/** Row height, CSS px. */
export const ROW_HEIGHT = 18;
/** Frames narrower than this are not drawn, nor anything below them (they would be invisible). */
const MIN_FRAME_PX = 1;
/** Labels need room for at least this many characters plus padding. */
const MIN_LABEL_CHARS = 3;
const LABEL_PAD_PX = 4;
const FONT_PX = 11;
const FONT = `${FONT_PX}px "DejaVu Sans Mono", Menlo, Consolas, monospace`;
/** Browsers cap a canvas side near 32k device px; rows beyond this are not drawn. */
const MAX_CANVAS_PX = 30_000;
const FADED_ALPHA = 0.22;
const ANCESTOR_ALPHA = 0.55;

export interface DrawStats {
  readonly drawn: number;
  readonly labels: number;
  readonly ms: number;
}

/**
 * An icicle on a canvas (root on top, or at the bottom when inverted, for a callers view). Draws
 * only frames at least a pixel wide and labels only where they fit: 100k-node trees draw in tens
 * of milliseconds (bench/page-draw-benchmark.ts).
 */
export class FlameRenderer {
  private model: FlameModel | null = null;
  private colorOf: ColorOf = () => '#ccc';
  private focus = 0;
  private faded: Uint8Array | null = null;
  private marked: Uint8Array | null = null;
  private hovered = -1;
  private charWidth = 7;
  private cssWidth = 0;
  private rows = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private readonly inverted = false,
  ) {}

  /** A new tree with its per-node colours; the focus resets to the root. */
  setModel(model: FlameModel | null, colorOf: ColorOf): void {
    this.model = model;
    this.colorOf = colorOf;
    this.focus = 0;
    this.faded = null;
    this.marked = null;
    this.hovered = -1;
  }

  getModel(): FlameModel | null {
    return this.model;
  }

  setFocus(id: number): void {
    this.focus = id;
  }

  getFocus(): number {
    return this.focus;
  }

  /** `matches`: nodes to keep bright (search); everything else fades. Null: nothing fades. */
  setMatches(matches: Uint8Array | null): void {
    this.faded = matches;
  }

  /** Nodes outlined (a function picked in the top table). */
  setMarked(marked: Uint8Array | null): void {
    this.marked = marked;
  }

  setHovered(id: number): boolean {
    if (id === this.hovered) return false;
    this.hovered = id;
    return true;
  }

  draw(): DrawStats {
    const t0 = performance.now();
    const canvas = this.canvas;
    const model = this.model;
    const width = Math.max(1, canvas.parentElement?.clientWidth ?? canvas.clientWidth);
    const dpr = window.devicePixelRatio || 1;
    this.rows = model ? Math.min(model.maxDepth + 1, Math.floor(MAX_CANVAS_PX / dpr / ROW_HEIGHT)) : 0;
    const height = Math.max(ROW_HEIGHT, this.rows * ROW_HEIGHT);
    this.cssWidth = width;
    if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
      canvas.width = Math.round(width * dpr);
      canvas.height = Math.round(height * dpr);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${height}px`;
    }
    const ctx = canvas.getContext('2d');
    if (!ctx) return { drawn: 0, labels: 0, ms: 0 };
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    if (!model) return { drawn: 0, labels: 0, ms: performance.now() - t0 };
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    this.charWidth = ctx.measureText('MMMMMMMMMM').width / 10 || 7;

    const { weight, start, depth, order, subtreeEnd, position, tree } = model;
    const focus = this.focus;
    const viewStart = start[focus] as number;
    const scale = width / ((weight[focus] as number) || 1);
    let drawn = 0;
    let labels = 0;

    // The focus's ancestors span the full width, dimmed: they are context, not data at this scale.
    ctx.globalAlpha = ANCESTOR_ALPHA;
    for (let n = tree.parent[focus] as number; n >= 0; n = tree.parent[n] as number) {
      if ((depth[n] as number) < this.rows) {
        labels += this.frame(ctx, model, n, 0, width, false);
        drawn++;
      }
    }

    const last = subtreeEnd[position[focus] as number] as number;
    for (let p = position[focus] as number; p < last;) {
      const id = order[p] as number;
      const w = (weight[id] as number) * scale;
      if (w < MIN_FRAME_PX || (depth[id] as number) >= this.rows) {
        p = subtreeEnd[p] as number;
        continue;
      }
      const x = ((start[id] as number) - viewStart) * scale;
      const fade = this.faded !== null && this.faded[id] === 0;
      ctx.globalAlpha = fade ? FADED_ALPHA : 1;
      labels += this.frame(ctx, model, id, x, w, this.marked?.[id] === 1);
      drawn++;
      p++;
    }
    ctx.globalAlpha = 1;
    return { drawn, labels, ms: performance.now() - t0 };
  }

  private rowY(d: number): number {
    return this.inverted ? (this.rows - 1 - d) * ROW_HEIGHT : d * ROW_HEIGHT;
  }

  /** One frame; returns 1 when it got a label. */
  private frame(
    ctx: CanvasRenderingContext2D,
    model: FlameModel,
    id: number,
    x: number,
    w: number,
    mark: boolean,
  ): number {
    const y = this.rowY(model.depth[id] as number);
    ctx.fillStyle = this.colorOf(id);
    ctx.fillRect(x, y, Math.max(w - (w > 3 ? 0.5 : 0), 0.5), ROW_HEIGHT - 1);
    if (mark || id === this.hovered) {
      ctx.strokeStyle = mark ? '#6a1b9a' : '#222';
      ctx.lineWidth = mark ? 2 : 1;
      ctx.strokeRect(x + 1, y + 1, Math.max(w - 2, 1), ROW_HEIGHT - 3);
    }
    const chars = Math.floor((w - 2 * LABEL_PAD_PX) / this.charWidth);
    if (chars < MIN_LABEL_CHARS) return 0;
    const tree = model.tree;
    const name = tree.names[tree.name[id] as number] ?? '';
    const label = name.length <= chars ? name : `${name.slice(0, chars - 1)}…`;
    ctx.fillStyle = '#1a1a1a';
    ctx.fillText(label, x + LABEL_PAD_PX, y + ROW_HEIGHT / 2);
    return 1;
  }

  /** The node under a point (CSS px relative to the canvas), or -1. */
  nodeAtPoint(x: number, y: number): number {
    const model = this.model;
    if (!model || this.rows === 0) return -1;
    const row = Math.floor(y / ROW_HEIGHT);
    const d = this.inverted ? this.rows - 1 - row : row;
    const focus = this.focus;
    const value = (model.start[focus] as number) + (x / this.cssWidth) * (model.weight[focus] as number);
    const id = nodeAt(model, focus, d, value);
    if (id < 0) return -1;
    // Hit-testing agrees with drawing: a frame too narrow to be drawn is not under the pointer.
    const w = (model.weight[id] as number) * (this.cssWidth / ((model.weight[focus] as number) || 1));
    return (model.depth[id] as number) < (model.depth[focus] as number) || w >= MIN_FRAME_PX ? id : -1;
  }

  /** Where a node is drawn (CSS px relative to the canvas), or null when it is not. */
  nodeRect(id: number): { x: number; y: number; w: number; h: number } | null {
    const model = this.model;
    if (!model || id < 0 || id >= model.size) return null;
    const focus = this.focus;
    const d = model.depth[id] as number;
    if (d >= this.rows) return null;
    if (d < (model.depth[focus] as number))
      return { x: 0, y: this.rowY(d), w: this.cssWidth, h: ROW_HEIGHT - 1 };
    const scale = this.cssWidth / ((model.weight[focus] as number) || 1);
    const x = ((model.start[id] as number) - (model.start[focus] as number)) * scale;
    const w = (model.weight[id] as number) * scale;
    if (w < MIN_FRAME_PX || x < -0.5 || x + w > this.cssWidth + 0.5) return null;
    return { x, y: this.rowY(d), w, h: ROW_HEIGHT - 1 };
  }
}
