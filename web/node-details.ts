import type { FlameModel } from './flame-model.js';
import { isDiffTree, nodeName } from './flame-model.js';
import type { ColorOf } from './flame-renderer.js';
import type { NodeDescription } from './flame-view.js';
import { diffColor, frameColor, frameKind } from './flame-colors.js';
import type { ValueUnit } from './format-value.js';
import { formatShare, formatValue } from './format-value.js';

function kindText(frameType: string): string {
  const kind = frameKind(frameType);
  return kind === 'interpreted' ? `interpreted (${frameType})` : kind;
}

/**
 * Tooltip of a frame: self, total and share of the tree's root (and of the zoomed frame). `whole`
 * names that root: "all" for the selection's graph, the function for a sandwich side.
 */
export function describeNode(
  model: FlameModel,
  id: number,
  focus: number,
  unit: ValueUnit,
  whole = 'all',
): NodeDescription {
  const tree = model.tree;
  const total = tree.total[id] as number;
  const self = tree.self[id] as number;
  const rootA = tree.total[0] as number;
  const title = id === 0 && whole === 'all' ? 'all (root)' : nodeName(tree, id);
  const rows: [string, string][] = [['type', id === 0 ? '–' : kindText(tree.frameType[id] ?? '')]];
  if (isDiffTree(tree)) {
    const totalB = tree.totalB[id] as number;
    const rootB = tree.totalB[0] as number;
    const delta = (rootB > 0 ? totalB / rootB : 0) - (rootA > 0 ? total / rootA : 0);
    rows.push(
      ['A total', `${formatValue(total, unit)} · ${formatShare(total, rootA)}`],
      ['B total', `${formatValue(totalB, unit)} · ${formatShare(totalB, rootB)}`],
      ['A self', `${formatValue(self, unit)} · ${formatShare(self, rootA)}`],
      [
        'B self',
        `${formatValue(tree.selfB[id] as number, unit)} · ${formatShare(tree.selfB[id] as number, rootB)}`,
      ],
      ['change', `${delta >= 0 ? '+' : ''}${(delta * 100).toFixed(2)} percentage points of total`],
    );
    return { title, rows };
  }
  rows.push(
    ['total', `${formatValue(total, unit)} · ${formatShare(total, rootA)} of ${whole}`],
    ['self', `${formatValue(self, unit)} · ${formatShare(self, rootA)} of ${whole}`],
  );
  if (focus > 0 && id !== focus) rows.push(['of zoomed', formatShare(total, tree.total[focus] as number)]);
  return { title, rows };
}

/**
 * Per-node fill colours: frame kind, or for a diff the change of share from A to B. Computed on
 * first use and remembered: a draw touches only the frames wide enough to see (a few thousand of
 * 100k), and building all colour strings up front cost ~0.2 s per 100k nodes.
 */
export function nodeColors(model: FlameModel): ColorOf {
  const tree = model.tree;
  const colors = new Array<string | undefined>(model.size);
  if (isDiffTree(tree)) {
    const rootA = (tree.total[0] as number) || 1;
    const rootB = (tree.totalB[0] as number) || 1;
    const delta = (i: number): number =>
      (tree.totalB[i] as number) / rootB - (tree.total[i] as number) / rootA;
    let scale = 0;
    for (let i = 1; i < model.size; i++) scale = Math.max(scale, Math.abs(delta(i)));
    return (id) => {
      let color = colors[id];
      if (color === undefined) {
        const oneSide = id > 0 && ((tree.total[id] as number) === 0 || (tree.totalB[id] as number) === 0);
        color = diffColor(delta(id), scale, oneSide);
        colors[id] = color;
      }
      return color;
    };
  }
  return (id) => {
    let color = colors[id];
    if (color === undefined) {
      color = id === 0 ? ROOT_COLOR : frameColor(nodeName(tree, id), tree.frameType[id] ?? '');
      colors[id] = color;
    }
    return color;
  };
}

const ROOT_COLOR = 'hsl(220 10% 78%)';
