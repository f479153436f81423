import type { FlameTreeJson } from '../../web/api-types.js';
import { seededRandom } from '../support/seeded-random.js';

/**
 * A flame tree of `nodes` nodes shaped like a busy service's: a few deep call chains with wide
 * fan-out near the leaves, self time at every level, frame types mixed. Pre-order, like the server's.
 */
export function syntheticFlameTree(nodes: number, seed = 1): FlameTreeJson {
  const rng = seededRandom(seed);
  const random = (): number => rng.int(1_000_000) / 1_000_000;
  const parent: number[] = [-1];
  const depth: number[] = [0];
  const frameType: string[] = [''];
  const types = ['kernel', 'native', 'cpython', 'native', 'jvm'];
  // Pre-order: each new node's parent is on the current root-to-node path.
  const path: number[] = [0];
  while (parent.length < nodes) {
    const up = random() < 0.35 ? 1 + Math.floor(random() * Math.min(path.length - 1, 6)) : 0;
    path.length = Math.max(1, path.length - up);
    if (path.length > 60) path.length = 30;
    const p = path[path.length - 1] as number;
    const id = parent.length;
    parent.push(p);
    depth.push((depth[p] as number) + 1);
    frameType.push(types[Math.floor(random() * types.length)] as string);
    path.push(id);
  }
  const names = Array.from({ length: Math.ceil(nodes / 4) }, (_, i) => `module${i % 97}.function_${i}`);
  const name = parent.map((_, i) => (i === 0 ? 0 : 1 + Math.floor(random() * (names.length - 1))));
  names[0] = 'total';
  const self = parent.map(() => 1 + Math.floor(random() * 1000));
  const total = totalsFromSelf(parent, self);
  return {
    names,
    name,
    parent,
    frameType,
    total,
    self,
    rootTotal: String(total[0]),
    truncated: 0,
    unit: 'count',
    type: 'samples/count',
  };
}

/** Each node's total: its self plus its descendants' (pre-order: children come after their parent). */
export function totalsFromSelf(parent: readonly number[], self: readonly number[]): number[] {
  const total = [...self];
  for (let i = parent.length - 1; i > 0; i--) {
    const p = parent[i] as number;
    total[p] = (total[p] as number) + (total[i] as number);
  }
  return total;
}
