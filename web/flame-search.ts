import type { FlameModel } from './flame-model.js';
import { isDiffTree, nodeName } from './flame-model.js';

/** Frames a predicate selects, and their summed value with each stack counted once. */
export interface MatchResult {
  /** 1 per matching node. */
  readonly matched: Uint8Array;
  readonly nodes: number;
  /**
   * Sum of total over matching nodes that have no matching ancestor: a recursive function (or two
   * matching frames on one stack) would otherwise count the same samples twice.
   */
  readonly total: number;
  /** The same for selection B of a diff. */
  readonly totalB?: number;
}

export function matchTree(model: FlameModel, predicate: (name: string) => boolean): MatchResult {
  const { tree, size } = model;
  const matched = new Uint8Array(size);
  const covered = new Uint8Array(size);
  const byName = new Map<number, boolean>();
  const diff = isDiffTree(tree) ? tree : undefined;
  let nodes = 0;
  let total = 0;
  let totalB = 0;
  for (let i = 1; i < size; i++) {
    const nameId = tree.name[i] as number;
    let hit = byName.get(nameId);
    if (hit === undefined) {
      hit = predicate(nodeName(tree, i));
      byName.set(nameId, hit);
    }
    const p = tree.parent[i] as number;
    covered[i] = (covered[p] as number) | (matched[p] as number);
    if (!hit) continue;
    matched[i] = 1;
    nodes++;
    if (!covered[i]) {
      total += tree.total[i] as number;
      if (diff) totalB += diff.totalB[i] as number;
    }
  }
  return diff ? { matched, nodes, total, totalB } : { matched, nodes, total };
}

/**
 * The search box's predicate: a case-insensitive substring, or a regular expression written as
 * `/…/`. An invalid expression is reported, not silently treated as text.
 */
export function searchPredicate(
  query: string,
): { ok: true; test: (name: string) => boolean } | { ok: false; error: string } {
  const trimmed = query.trim();
  const regex = /^\/(.+)\/([a-z]*)$/.exec(trimmed);
  if (regex) {
    try {
      const re = new RegExp(regex[1] as string, (regex[2] ?? '').includes('i') ? 'i' : '');
      return { ok: true, test: (name) => re.test(name) };
    } catch (err) {
      return { ok: false, error: `search: invalid regular expression (${(err as Error).message})` };
    }
  }
  const needle = trimmed.toLowerCase();
  return { ok: true, test: (name) => name.toLowerCase().includes(needle) };
}
