import type { FlameModel } from './flame-model.js';
import { isDiffTree, nodeName } from './flame-model.js';
import type { NodeDescription } from './flame-view.js';
import { diffColor, frameColor, frameKind } from './flame-colors.js';
import type { ValueUnit } from './format-value.js';
import { formatShare, formatValue } from './format-value.js';

function kindText(frameType: string): string {
  const kind = frameKind(frameType);
  return kind === 'interpreted' ? `interpreted (${frameType})` : kind;
}

/** Tooltip of a frame: self, total and share of the whole selection (and of the zoomed frame). */
export function describeNode(model: FlameModel, id: number, focus: number, unit: ValueUnit): NodeDescription {
  const tree = model.tree;
  const total = tree.total[id] as number;
  const self = tree.self[id] as number;
  const rootA = tree.total[0] as number;
  const title = id === 0 ? 'all (root)' : nodeName(tree, id);
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
    ['total', `${formatValue(total, unit)} · ${formatShare(total, rootA)} of all`],
    ['self', `${formatValue(self, unit)} · ${formatShare(self, rootA)} of all`],
  );
  if (focus > 0 && id !== focus) rows.push(['of zoomed', formatShare(total, tree.total[focus] as number)]);
  return { title, rows };
}

/** Per-node fill colours: frame kind, or for a diff the change of share from A to B. */
export function nodeColors(model: FlameModel): string[] {
  const tree = model.tree;
  const colors = new Array<string>(model.size);
  if (isDiffTree(tree)) {
    const rootA = (tree.total[0] as number) || 1;
    const rootB = (tree.totalB[0] as number) || 1;
    const delta = new Float64Array(model.size);
    let scale = 0;
    for (let i = 0; i < model.size; i++) {
      delta[i] = (tree.totalB[i] as number) / rootB - (tree.total[i] as number) / rootA;
      if (i > 0) scale = Math.max(scale, Math.abs(delta[i] as number));
    }
    for (let i = 0; i < model.size; i++) {
      const oneSide = (tree.total[i] as number) === 0 || (tree.totalB[i] as number) === 0;
      colors[i] = diffColor(delta[i] as number, scale, oneSide && i > 0);
    }
    return colors;
  }
  const cache = new Map<string, string>();
  for (let i = 0; i < model.size; i++) {
    const name = nodeName(tree, i);
    const type = tree.frameType[i] ?? '';
    const key = `${type}\u0000${name}`;
    let color = cache.get(key);
    if (color === undefined) {
      color = i === 0 ? 'hsl(220 10% 78%)' : frameColor(name, type);
      cache.set(key, color);
    }
    colors[i] = color;
  }
  return colors;
}
