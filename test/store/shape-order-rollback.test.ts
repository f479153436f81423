import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/logger.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import type { DiffTree, FlameTree } from '../../src/store/profile-store.js';
import { StoreDirectoryError } from '../../src/store/store-errors.js';
import type { HeldStore } from './held-store.js';
import { openHeldStore, REFUSED_VALUE } from './held-store.js';
import { SECOND, selection, T0, tempDir } from './store-fixtures.js';
import { tinyRequest } from '../support/transport-fixtures.js';

/**
 * The store keeps one pre-order of its whole prefix tree per version of the dictionary's nodes. A write
 * adds its stacks to the dictionary before its transaction commits, so a flame graph drawn meanwhile can
 * build that order over nodes a failed commit then forgets; the next write reuses their ids for other
 * frames. Every flame graph (and diff) must still equal a plain tree built from the committed stacks.
 */

interface Stack {
  /** Frame names, root first. */
  readonly path: readonly string[];
  readonly value: bigint;
}

const BASE: readonly Stack[] = [
  { path: ['main', 'x'], value: 5n },
  { path: ['main', 'y'], value: 3n },
];
/** Three new nodes (a chain under the root, three new frames); its commit fails. */
const FAILING: readonly Stack[] = [{ path: ['q1', 'q2', 'q3'], value: REFUSED_VALUE }];
/** Three new nodes too (siblings under main, three new frames named against their id order). */
const LATER: readonly Stack[] = [
  { path: ['main', 'b'], value: 7n },
  { path: ['main', 'c'], value: 2n },
  { path: ['main', 'a'], value: 4n },
];
const BASE_TIME = T0;
const FAILING_TIME = T0 + SECOND;
const LATER_TIME = T0 + 2n * SECOND;

/**
 * The transport tests' one-sample CPU request, its dictionary and samples replaced: a sample per stack at
 * `time`, every name its own function (frame type "").
 */
function stacksRequest(stacks: readonly Stack[], time: bigint): ExportProfilesServiceRequest {
  const request = tinyRequest({ serviceName: 'shape-order-test' });
  const d = request.dictionary;
  // Its strings up to "nanoseconds" stay (sample and period types); its one function and location go.
  const firstName = d.stringTable.indexOf('nanoseconds') + 1;
  const names = [...new Set(stacks.flatMap((s) => s.path))];
  d.stringTable = [...d.stringTable.slice(0, firstName), ...names];
  d.functionTable = [
    d.functionTable[0]!,
    ...names.map((_, i) => ({
      ...d.functionTable[1]!,
      nameStrindex: firstName + i,
      systemNameStrindex: firstName + i,
    })),
  ];
  d.locationTable = [
    d.locationTable[0]!,
    ...names.map((_, i) => ({
      ...d.locationTable[1]!,
      address: BigInt(0x1000 + i),
      lines: [{ functionIndex: i + 1, line: 0n, column: 0n }],
    })),
  ];
  const location = (name: string): number => names.indexOf(name) + 1;
  d.stackTable = [
    d.stackTable[0]!,
    ...stacks.map((s) => ({ locationIndices: s.path.map(location).reverse() })),
  ];
  const profile = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!;
  profile.timeUnixNano = time;
  profile.samples = stacks.map((s, i) => ({
    stackIndex: i + 1,
    attributeIndices: [],
    linkIndex: 0,
    values: [s.value],
    timestampsUnixNano: [time],
  }));
  return request;
}

/** A node as one line: depth, name, totals and self values (one per side, joined by "/"). */
function row(depth: number, name: string, totals: readonly unknown[], selfs: readonly unknown[]): string {
  return `${depth} ${name} ${totals.join('/')} ${selfs.join('/')}`;
}

/**
 * The plain reference: the tree of every side's stacks (a diff has two sides), pre-order, children by name
 * (UTF-16 order), one row per node with a value on some side.
 */
function referenceRows(...sides: (readonly Stack[])[]): string[] {
  interface Node {
    readonly total: bigint[];
    readonly self: bigint[];
    readonly children: Map<string, Node>;
  }
  const node = (): Node => ({ total: sides.map(() => 0n), self: sides.map(() => 0n), children: new Map() });
  const root = node();
  sides.forEach((stacks, side) => {
    for (const { path, value } of stacks) {
      let at = root;
      at.total[side]! += value;
      for (const name of path) {
        let child = at.children.get(name);
        if (child === undefined) at.children.set(name, (child = node()));
        child.total[side]! += value;
        at = child;
      }
      at.self[side]! += value;
    }
  });
  const rows: string[] = [];
  const visit = (n: Node, depth: number, name: string): void => {
    rows.push(row(depth, name, n.total, n.self));
    for (const child of [...n.children.keys()].sort()) visit(n.children.get(child)!, depth + 1, child);
  };
  visit(root, 0, 'total');
  return rows;
}

/** A flame graph's nodes as rows, in its order (a diff's B side after its A side). */
function treeRows(tree: FlameTree | DiffTree): string[] {
  const depth: number[] = [];
  return Array.from(tree.name, (name, i) => {
    const parent = tree.parent[i]!;
    depth[i] = parent < 0 ? 0 : depth[parent]! + 1;
    const totals = 'totalB' in tree ? [tree.total[i], tree.totalB[i]] : [tree.total[i]];
    const selfs = 'selfB' in tree ? [tree.self[i], tree.selfB[i]] : [tree.self[i]];
    return row(depth[i], tree.names[name]!, totals, selfs);
  });
}

/** Two flame graphs at the tree's current version: the first orders its nodes itself, the second builds the stored order. */
async function assertFlameGraphs(held: HeldStore, expected: readonly Stack[], what: string): Promise<void> {
  const reference = referenceRows(expected);
  assert.deepEqual(treeRows(await held.store.flameGraph(selection())), reference, `${what}: first`);
  assert.deepEqual(treeRows(await held.store.flameGraph(selection())), reference, `${what}: stored order`);
}

/**
 * Stores the base stacks (flame graphs checked), then starts the failing write and returns once its stacks
 * are in the dictionary, its commit held. `nodes`: the tree's size before it. (Wrapped: an async function
 * returning the write's promise itself would wait for it.)
 */
async function holdFailingWrite(held: HeldStore): Promise<{ failing: Promise<unknown>; nodes: number }> {
  await held.store.ingest(stacksRequest(BASE, BASE_TIME));
  await assertFlameGraphs(held, BASE, 'base');
  const nodes = held.dictionary.nodeCount;
  const begun = held.writes.close((sql) => sql.startsWith('BEGIN'));
  const failing = held.store.ingest(stacksRequest(FAILING, FAILING_TIME));
  failing.catch(() => undefined);
  await begun;
  assert.equal(held.dictionary.nodeCount, nodes + 3, 'the failing write has added its three nodes');
  return { failing, nodes };
}

async function assertFailed(held: HeldStore, failing: Promise<unknown>, nodes: number): Promise<void> {
  held.writes.open();
  await assert.rejects(failing, (err: unknown) => {
    assert.ok(err instanceof StoreDirectoryError, String(err));
    assert.match(err.message, /could not write to the store .*CHECK constraint/);
    return true;
  });
  assert.equal(held.dictionary.nodeCount, nodes, 'the rollback forgot the three nodes');
}

async function withHeldStore(run: (held: HeldStore, dir: string) => Promise<void>): Promise<void> {
  const dir = tempDir();
  const held = await openHeldStore(dir.path);
  try {
    await run(held, dir.path);
  } finally {
    held.writes.open();
    held.reads.open();
    await held.store.close();
    dir.remove();
  }
}

describe('stored flame-graph order across failed writes', () => {
  it('a write adding as many nodes as a failed one (other frames) never gets its stored order', async () => {
    await withHeldStore(async (held, dir) => {
      const { failing, nodes } = await holdFailingWrite(held);
      // Drawn while the failing write's nodes are in the tree: the second builds the order over them.
      await assertFlameGraphs(held, BASE, 'during the failing write');
      await assertFailed(held, failing, nodes);
      // No flame graph in between: the next one meets the tree at the node count of that stored order.
      await held.store.ingest(stacksRequest(LATER, LATER_TIME));
      assert.equal(held.dictionary.nodeCount, nodes + 3);
      await assertFlameGraphs(held, [...BASE, ...LATER], 'after the later write');
      // The database holds what was shown: reopened, the same tree (the failed write left nothing).
      await held.store.close();
      const reopened = await openProfileStore(dir, { logger: silentLogger });
      try {
        assert.deepEqual(
          treeRows(await reopened.flameGraph(selection())),
          referenceRows([...BASE, ...LATER]),
        );
      } finally {
        await reopened.close();
      }
    });
  });

  it('a rollback right after a flame graph was drawn over the failed nodes', async () => {
    await withHeldStore(async (held) => {
      const { failing, nodes } = await holdFailingWrite(held);
      await assertFlameGraphs(held, BASE, 'during the failing write');
      await assertFailed(held, failing, nodes);
      await assertFlameGraphs(held, BASE, 'right after the rollback');
      const truncated = await held.store.flameGraph(selection(), { maxNodes: 2 });
      assert.deepEqual(treeRows(truncated), referenceRows(BASE).slice(0, 2), 'truncated: the root and main');
      assert.equal(truncated.truncated, 2);
      // The failed write's stacks, valid this time: new nodes again, at the ids the rollback freed.
      const retried = FAILING.map((s) => ({ ...s, value: 1n }));
      await held.store.ingest(stacksRequest(retried, FAILING_TIME));
      await assertFlameGraphs(held, [...BASE, ...retried], 'after the retried write');
    });
  });

  it('a diff whose reads straddle a failed write and a later one uses the tree as it is after both', async () => {
    await withHeldStore(async (held) => {
      const { failing, nodes } = await holdFailingWrite(held);
      // A flame graph at this version of the tree: the next query taking the tree at it builds its order.
      await held.store.flameGraph(selection());
      const laterRead = held.reads.close((sql) => sql.includes(`time >= ${LATER_TIME}`));
      const diffing = held.store.diff(
        selection({}, { from: BASE_TIME, to: BASE_TIME + SECOND }),
        selection({}, { from: LATER_TIME, to: LATER_TIME + SECOND }),
      );
      await laterRead;
      await assertFailed(held, failing, nodes);
      await held.store.ingest(stacksRequest(LATER, LATER_TIME));
      held.reads.open();
      assert.deepEqual(treeRows(await diffing), referenceRows(BASE, LATER));
    });
  });
});
