import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { BIGINT, INTEGER, UBIGINT, UHUGEINT, VARCHAR } from '@duckdb/node-api';
import type { Logger } from '../observability/logger.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { countRequest } from '../profiles/model/otlp-model.js';
import { appendColumns, readColumns, readNodeSums } from './duckdb-io.js';
import type { TreeShape, TreeValues } from './flame-tree.js';
import { DEFAULT_MAX_NODES, finishTree, PathTree, treeValues, treeValuesOf } from './flame-tree.js';
import type {
  DiffTree,
  FlameTree,
  IngestResult,
  ProfileStore,
  ProfileTypeInfo,
  Selection,
  StoreBacklog,
  StoreStats,
  TimelinePoint,
  TopFunction,
  TraceSummary,
} from './profile-store.js';
import { GroupCommit } from './group-commit.js';
import type { Acceptance } from './request-acceptance.js';
import { acceptRequest } from './request-acceptance.js';
import type { SampleRows } from './request-rows.js';
import { concatRows, resolveRequestRows } from './request-rows.js';
import type { ResolvedSelection } from './selection-sql.js';
import { passesKeys, resolveSelection, storedTypeIds, whereOf } from './selection-sql.js';
import type { DictionaryMark, StoreDictionary } from './store-dictionary.js';
import { labelsKey } from './store-dictionary.js';
import type { ShapeOrder } from './shape-order.js';
import { shapeOrder } from './shape-order.js';
import { StoreDirectoryError } from './store-errors.js';
import { buildStorePprof } from './store-pprof.js';
import type { RetentionPolicy } from './store-retention.js';
import { applyRetention, storeBytes, usedBytes } from './store-retention.js';
import { timelineStep } from './timeline-step.js';
import { asError } from '../util/error-text.js';

/** Writes queued beyond this many requests or samples make the store "saturated" (the server answers 503). */
const MAX_PENDING_REQUESTS = 32;
const MAX_PENDING_SAMPLES = 2_000_000;
/** How often retention runs while open. */
const RETENTION_INTERVAL_MS = 60_000;
const DEFAULT_TOP_LIMIT = 100;
const DEFAULT_TRACES_LIMIT = 100;

const TRACE_HEX_DIGITS = 32;

/** Value per stack (leaf node) of the rows a condition selects: the one scan behind every tree. */
function nodeSumsSql(where: string): string {
  return `SELECT node, SUM(value) FROM samples WHERE ${where} GROUP BY node`;
}

/** Serializes async jobs: one at a time, in order. */
class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(job: () => Promise<T>): Promise<T> {
    const result = this.tail.then(job);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

export interface DuckDBStoreParts {
  readonly dir: string;
  readonly databasePath: string;
  readonly instance: DuckDBInstance;
  readonly writer: DuckDBConnection;
  readonly reader: DuckDBConnection;
  readonly dictionary: StoreDictionary;
  readonly retention: RetentionPolicy;
  readonly logger: Logger;
  readonly release: () => void;
}

/** A validated request waiting for its group's commit. */
interface PendingIngest {
  readonly request: ExportProfilesServiceRequest;
  readonly acceptance: Acceptance;
}

export class DuckDBProfileStore implements ProfileStore {
  private readonly writes = new SerialQueue();
  /** Requests that arrive while a commit runs are written together in the next one. */
  private readonly ingests = new GroupCommit<PendingIngest, IngestResult>(
    (job) => void this.writes.run(job),
    (group) => this.writeGroup(group),
  );
  private readonly reads = new SerialQueue();
  private pendingRequests = 0;
  private pendingSamples = 0;
  private retentionTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set when DuckDB invalidated the database (a failed write it cannot roll back): every write refuses. */
  private fatal: Error | undefined;
  private deletedByRetention = 0n;

  constructor(private readonly parts: DuckDBStoreParts) {
    // The tree as loaded counts as met once: the first flame graph after an open without ingest builds.
    this.order = { version: parts.dictionary.nodesVersion, order: undefined };
  }

  /** Runs retention now and then every minute (the timer does not keep the process alive). */
  async startRetention(): Promise<void> {
    await this.runRetention();
    this.retentionTimer = setInterval(() => {
      this.runRetention().catch((err: unknown) =>
        this.parts.logger.error('retention failed', { error: (err as Error).message }),
      );
    }, RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
  }

  runRetention(nowNs: bigint = BigInt(Date.now()) * 1_000_000n): Promise<number> {
    return this.writes.run(async () => {
      if (this.closed) return 0;
      const deleted = await applyRetention(
        this.parts.writer,
        this.parts.databasePath,
        this.parts.retention,
        nowNs,
        this.parts.logger,
      );
      this.deletedByRetention += BigInt(deleted);
      return deleted;
    });
  }

  backlog(): StoreBacklog {
    return {
      pendingRequests: this.pendingRequests,
      pendingSamples: this.pendingSamples,
      saturated: this.pendingRequests >= MAX_PENDING_REQUESTS || this.pendingSamples >= MAX_PENDING_SAMPLES,
    };
  }

  ingest(request: ExportProfilesServiceRequest): Promise<IngestResult> {
    if (this.closed) return Promise.reject(new Error('the profile store is closed'));
    let acceptance: Acceptance;
    try {
      acceptance = acceptRequest(request);
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const samples = countRequest(request).samples;
    this.pendingRequests++;
    this.pendingSamples += samples;
    return this.ingests.submit({ request, acceptance }).finally(() => {
      this.pendingRequests--;
      this.pendingSamples -= samples;
    });
  }

  /**
   * Stores a group of accepted requests in one transaction (one log sync for all). Resolving a request's
   * rows is per request, so one that fails there fails alone. When the shared commit fails, each request is
   * tried again in its own transaction (unless the database is now unusable), so a request that cannot be
   * written does not take the others of its group down with it.
   */
  private async writeGroup(group: readonly PendingIngest[]): Promise<PromiseSettledResult<IngestResult>[]> {
    if (this.fatal) return group.map(() => ({ status: 'rejected', reason: this.fatal }));
    const dict = this.parts.dictionary;
    const groupMark = dict.mark();
    const outcomes: PromiseSettledResult<IngestResult>[] = [];
    const parts: SampleRows[] = [];
    for (const pending of group) {
      const mark = dict.mark();
      try {
        parts.push(resolveRequestRows(pending.request, dict, pending.acceptance.accepted));
        outcomes.push({ status: 'fulfilled', value: this.ingestResult(pending) });
      } catch (err) {
        dict.rollback(mark);
        outcomes.push({ status: 'rejected', reason: err });
      }
    }
    if (parts.length === 0) return outcomes;
    try {
      await this.commit(groupMark, concatRows(parts));
      return outcomes;
    } catch (err) {
      dict.rollback(groupMark);
      const error = this.writeError(err);
      if (this.fatal || parts.length === 1)
        return outcomes.map((o) => (o.status === 'fulfilled' ? { status: 'rejected', reason: error } : o));
    }
    // Sequential: this runs inside the write queue's job.
    for (let i = 0; i < group.length; i++) {
      if (outcomes[i]!.status === 'rejected') continue;
      try {
        outcomes[i] = { status: 'fulfilled', value: await this.writeAlone(group[i]!) };
      } catch (err) {
        outcomes[i] = { status: 'rejected', reason: err };
      }
    }
    return outcomes;
  }

  private async writeAlone(pending: PendingIngest): Promise<IngestResult> {
    if (this.fatal) throw this.fatal;
    const dict = this.parts.dictionary;
    const mark = dict.mark();
    try {
      await this.commit(mark, resolveRequestRows(pending.request, dict, pending.acceptance.accepted));
    } catch (err) {
      dict.rollback(mark);
      throw this.writeError(err);
    }
    return this.ingestResult(pending);
  }

  private ingestResult({ request, acceptance }: PendingIngest): IngestResult {
    const result: IngestResult = {
      acceptedProfiles: acceptance.acceptedProfiles,
      rejectedProfiles: acceptance.rejectedProfiles,
      samples: this.acceptedSamples(request, acceptance.accepted),
    };
    return acceptance.errorMessage !== undefined
      ? { ...result, errorMessage: acceptance.errorMessage }
      : result;
  }

  private acceptedSamples(
    request: ExportProfilesServiceRequest,
    accepted: (ri: number, si: number, pi: number) => boolean,
  ): number {
    let n = 0;
    request.resourceProfiles.forEach((rp, ri) =>
      rp.scopeProfiles.forEach((sp, si) =>
        sp.profiles.forEach((p, pi) => {
          if (accepted(ri, si, pi)) n += p.samples.length;
        }),
      ),
    );
    return n;
  }

  /** One transaction: the dictionary entries new since `mark`, then the samples. Durable once it resolves. */
  private async commit(mark: DictionaryMark, rows: SampleRows): Promise<void> {
    const c = this.parts.writer;
    const dict = this.parts.dictionary;
    await c.run('BEGIN TRANSACTION');
    try {
      const frames = dict.frames.slice(mark.frames);
      await appendColumns(
        c,
        'frames',
        [INTEGER, VARCHAR, VARCHAR, VARCHAR, VARCHAR],
        [
          frames.map((_, i) => mark.frames + i),
          frames.map((f) => f.name),
          frames.map((f) => f.frameType),
          frames.map((f) => f.file),
          frames.map((f) => f.mapping),
        ],
        frames.length,
      );
      const newNodes = dict.nodeCount - mark.nodes;
      await appendColumns(
        c,
        'nodes',
        [INTEGER, INTEGER, INTEGER],
        [
          Int32Array.from({ length: newNodes }, (_, i) => mark.nodes + i),
          dict.nodeParent.subarray(mark.nodes, dict.nodeCount),
          dict.nodeFrame.subarray(mark.nodes, dict.nodeCount),
        ],
        newNodes,
      );
      const series = dict.series.slice(mark.series);
      await appendColumns(
        c,
        'series',
        [INTEGER, VARCHAR, VARCHAR, VARCHAR, VARCHAR, BIGINT, VARCHAR, VARCHAR, VARCHAR],
        [
          series.map((s) => s.id),
          series.map((s) => s.sampleType),
          series.map((s) => s.sampleUnit),
          series.map((s) => s.periodType),
          series.map((s) => s.periodUnit),
          series.map((s) => s.period),
          series.map((s) => s.scopeName),
          series.map((s) => s.scopeVersion),
          series.map((s) => labelsKey(s.labels)),
        ],
        series.length,
      );
      const sets = dict.attributeSets.slice(mark.attributeSets);
      await appendColumns(
        c,
        'attribute_sets',
        [INTEGER, VARCHAR],
        [sets.map((_, i) => mark.attributeSets + i), sets.map((l) => labelsKey(l))],
        sets.length,
      );
      await appendColumns(
        c,
        'samples',
        [BIGINT, BIGINT, INTEGER, INTEGER, INTEGER, UHUGEINT, UBIGINT],
        [rows.time, rows.value, rows.node, rows.series, rows.attrs, rows.traceId, rows.spanId],
        rows.count,
      );
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private writeError(err: unknown): Error {
    const message = (err as Error).message ?? String(err);
    const dir = this.parts.dir;
    if (/invalidated|fatal/i.test(message)) {
      this.fatal = new StoreDirectoryError(
        dir,
        `the store in ${dir} stopped accepting writes after a failed write (${message}); restart serve ` +
          `(what was stored before is kept; DuckDB replays its write-ahead log on open)`,
        { cause: err },
      );
      return this.fatal;
    }
    if (/no space left|disk full|ENOSPC|out of space/i.test(message))
      return new StoreDirectoryError(
        dir,
        `the data directory ${dir} is full, the request was not stored (${message}); free space there or ` +
          `lower --max-size / --retention`,
        { cause: err },
      );
    return new StoreDirectoryError(dir, `could not write to the store in ${dir}: ${message}`, { cause: err });
  }

  private read<T>(job: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('the profile store is closed'));
    return this.reads.run(() => job(this.parts.reader));
  }

  /**
   * The global shape's frame naming, made once for the store's life: optimised tree code holds on to the
   * functions it was called with, and a pair made per query died at the next garbage collection, which threw
   * that code away, so every later query ran its 100k-node loops unoptimised until recompiled (measured on
   * the store-query benchmark: 3× the flame graph's floor from this alone).
   */
  private readonly frameName = (f: number): string =>
    f < 0 ? 'total' : this.parts.dictionary.frames[f]!.name;
  private readonly frameType = (f: number): string =>
    f < 0 ? '' : this.parts.dictionary.frames[f]!.frameType;
  /** The prefix tree's order for flame graphs, as of a version of the dictionary's nodes (see storedOrder). */
  private order: { version: number; order: ShapeOrder | undefined };

  /** The prefix tree as it is now; `ordered`: with its stored order (flame graphs) when there is one. */
  private globalShape(ordered: boolean): TreeShape {
    const dict = this.parts.dictionary;
    return {
      parent: dict.nodeParent,
      frame: dict.nodeFrame,
      count: dict.nodeCount,
      frameName: this.frameName,
      frameType: this.frameType,
      rootName: 'total',
      rootFrameType: '',
      order: ordered ? this.storedOrder() : undefined,
    };
  }

  /**
   * Built by the second flame graph that meets a version of the tree (the first after an open), not the first:
   * building costs about two queries' own ordering, so while ingest keeps adding stacks between queries each
   * query orders its kept nodes itself (no slower than without the stored order), and once the tree holds
   * still the rest are fast.
   */
  private storedOrder(): ShapeOrder | undefined {
    const dict = this.parts.dictionary;
    if (this.order.version !== dict.nodesVersion) {
      this.order = { version: dict.nodesVersion, order: undefined };
      return undefined;
    }
    this.order.order ??= shapeOrder(dict.nodeParent, dict.nodeFrame, dict.nodeCount, this.frameName);
    return this.order.order;
  }

  /** The selection's value per stack (leaf node), without the tree. */
  private nodeSums(sel: Selection): Promise<{ nodes: Int32Array; values: bigint[] }> {
    const where = whereOf(resolveSelection(sel, this.parts.dictionary));
    return this.read((c) => readNodeSums(c, nodeSumsSql(where)));
  }

  /** Per-node sums of a selection over the global prefix tree (`ordered`: see globalShape). */
  private async nodeValues(
    sel: Selection,
    ordered = false,
  ): Promise<{ shape: TreeShape; values: TreeValues; pairs: { nodes: Int32Array; values: bigint[] } }> {
    const pairs = await this.nodeSums(sel);
    // Taken as the read returns (nothing runs in between): the tree holds every node the read names.
    const shape = this.globalShape(ordered);
    return { shape, values: treeValues(shape, pairs.nodes, pairs.values), pairs };
  }

  async profileTypes(): Promise<ProfileTypeInfo[]> {
    const dict = this.parts.dictionary;
    const counts = await this.read((c) =>
      readColumns(c, 'SELECT series, COUNT(*) FROM samples GROUP BY series'),
    );
    const perSeries = new Map<number, bigint>();
    counts[0]!.forEach((s, i) => perSeries.set(s as number, BigInt(counts[1]![i] as bigint)));
    return storedTypeIds(dict).map((id) => {
      const series = dict.series.filter((s) => s.typeId === id);
      const first = series[0]!;
      let samples = 0n;
      for (const s of series) samples += perSeries.get(s.id) ?? 0n;
      return {
        id,
        sampleType: { type: first.sampleType, unit: first.sampleUnit },
        periodType: { type: first.periodType, unit: first.periodUnit },
        period: first.period.toString(),
        samples: samples.toString(),
      };
    });
  }

  async timeRange(sel?: Selection): Promise<{ from: bigint; to: bigint } | null> {
    const where = sel ? whereOf(resolveSelection(sel, this.parts.dictionary)) : 'TRUE';
    const [min, max] = await this.read((c) =>
      readColumns(c, `SELECT MIN(time), MAX(time) FROM samples WHERE ${where}`),
    );
    const from = min![0];
    if (from === null || from === undefined) return null;
    // Half-open like every selection: `to` is just after the newest sample.
    return { from: BigInt(from as bigint), to: BigInt(max![0] as bigint) + 1n };
  }

  async labelValues(sel: Selection): Promise<Record<string, { value: string; samples: string }[]>> {
    const dict = this.parts.dictionary;
    const resolved = resolveSelection(sel, dict);
    // Per (series, attribute set) counts under time/type/trace; each key's values then honour every other
    // key's filter but not its own, so a picker still offers the alternatives to what is picked.
    const [seriesCol, setCol, countCol] = await this.read((c) =>
      readColumns(
        c,
        `SELECT series, attrs, COUNT(*) FROM samples WHERE ${whereOf({ ...resolved, keys: [] })} GROUP BY series, attrs`,
      ),
    );
    const counts = new Map<string, Map<string, bigint>>();
    seriesCol!.forEach((s, i) => {
      const series = s as number;
      const set = setCol![i] as number;
      const n = BigInt(countCol![i] as bigint);
      const labels = [...dict.series[series]!.labels, ...dict.attributeSets[set]!];
      for (const [key, value] of labels) {
        if (!passesKeys(resolved.keys, series, set, key)) continue;
        let values = counts.get(key);
        if (!values) counts.set(key, (values = new Map<string, bigint>()));
        values.set(value, (values.get(value) ?? 0n) + n);
      }
    });
    const out: Record<string, { value: string; samples: string }[]> = {};
    for (const key of [...counts.keys()].sort()) {
      out[key] = [...counts.get(key)!.entries()]
        .sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))
        .map(([value, n]) => ({ value, samples: n.toString() }));
    }
    return out;
  }

  /**
   * The floor every flame graph stands on: the selection's bare `GROUP BY node` read into JS, without the
   * tree. The store-query benchmark compares flameGraph with it. Returns the number of distinct stacks.
   */
  async groupByStack(sel: Selection): Promise<number> {
    return (await this.nodeSums(sel)).nodes.length;
  }

  async flameGraph(sel: Selection, opts?: { maxNodes?: number }): Promise<FlameTree> {
    const { shape, values } = await this.nodeValues(sel, true);
    const { sourceNode: _source, ...tree } = finishTree(shape, values, opts?.maxNodes ?? DEFAULT_MAX_NODES);
    return tree;
  }

  async topFunctions(sel: Selection, limit: number = DEFAULT_TOP_LIMIT): Promise<TopFunction[]> {
    const { shape, pairs } = await this.nodeValues(sel);
    const dict = this.parts.dictionary;
    const fnOfFrame = dict.functionIdsOfFrames();
    const fnCount = dict.functions.length;
    const self = new Array<bigint>(fnCount).fill(0n);
    const total = new Array<bigint>(fnCount).fill(0n);
    // A function counts once per stack in `total`, however often it recurses: stamp it per stack.
    const seen = new Int32Array(fnCount).fill(-1);
    for (let i = 0; i < pairs.nodes.length; i++) {
      const leaf = pairs.nodes[i]!;
      const v = pairs.values[i]!;
      if (leaf === 0) continue;
      self[fnOfFrame[shape.frame[leaf]!]!]! += v;
      for (let n = leaf; n > 0; n = shape.parent[n]!) {
        const fn = fnOfFrame[shape.frame[n]!]!;
        if (seen[fn] === i) continue;
        seen[fn] = i;
        total[fn]! += v;
      }
    }
    const order = [...total.keys()].filter((f) => total[f] !== 0n || self[f] !== 0n);
    order.sort((a, b) =>
      self[b]! > self[a]!
        ? 1
        : self[b]! < self[a]!
          ? -1
          : total[b]! > total[a]!
            ? 1
            : total[b]! < total[a]!
              ? -1
              : 0,
    );
    return order.slice(0, Math.max(0, limit)).map((f) => ({
      name: dict.functions[f]!.name,
      frameType: dict.functions[f]!.frameType,
      self: self[f]!.toString(),
      total: total[f]!.toString(),
    }));
  }

  async timeline(sel: Selection, stepNs?: bigint): Promise<{ stepNs: bigint; points: TimelinePoint[] }> {
    const resolved = resolveSelection(sel, this.parts.dictionary);
    const where = whereOf(resolved);
    return this.read(async (c) => {
      let from = sel.from;
      let to = sel.to;
      if (from === undefined || to === undefined) {
        const [min, max] = await readColumns(c, `SELECT MIN(time), MAX(time) FROM samples WHERE ${where}`);
        if (min![0] === null) return { stepNs: stepNs ?? timelineStep(0n), points: [] };
        from ??= BigInt(min![0] as bigint);
        to ??= BigInt(max![0] as bigint) + 1n;
      }
      const step = timelineStep(to - from, stepNs);
      const [bucket, sum] = await readColumns(
        c,
        `SELECT time // ${step} AS b, SUM(value) FROM samples WHERE ${where} GROUP BY b ORDER BY b`,
      );
      const byBucket = new Map<bigint, bigint>();
      bucket!.forEach((b, i) => byBucket.set(BigInt(b as bigint), BigInt(sum![i] as bigint)));
      // Every bucket of the range, zero where nothing was sampled (a gap is data too).
      const points: TimelinePoint[] = [];
      for (let b = from / step; b * step < to; b++)
        points.push({ t: b * step, value: (byBucket.get(b) ?? 0n).toString() });
      return { stepNs: step, points };
    });
  }

  async diff(a: Selection, b: Selection, opts?: { maxNodes?: number }): Promise<DiffTree> {
    const sumsA = await this.nodeSums(a);
    const sumsB = await this.nodeSums(b);
    // One tree for both sides, as it is after both reads: it holds every node either read names (committed
    // nodes stay). The tree as of the first read can hold the nodes of a write that failed since, whose ids
    // a later write has reused for other frames, and a stored order built over them.
    const shape = this.globalShape(true);
    const count = shape.count;
    const A = treeValues(shape, sumsA.nodes, sumsA.values);
    const B = treeValues(shape, sumsB.nodes, sumsB.values);
    const touched = new Uint8Array(count);
    const measure = new Float64Array(count);
    const rootA = A.total[0]! || 1;
    const rootB = B.total[0]! || 1;
    for (let i = 0; i < count; i++) {
      touched[i] = A.touched[i]! | B.touched[i]!;
      // Rank by the larger normalised share: a stack that vanished in B matters as much as a new one.
      measure[i] = Math.max(A.total[i]! / rootA, B.total[i]! / rootB);
    }
    const tree = finishTree(
      shape,
      treeValuesOf(A.self, A.total, touched, A.rootExact),
      opts?.maxNodes ?? DEFAULT_MAX_NODES,
      measure,
    );
    const { sourceNode, ...rest } = tree;
    return {
      ...rest,
      totalB: Array.from(sourceNode, (n) => B.total[n]!),
      selfB: Array.from(sourceNode, (n) => B.self[n]!),
      rootTotalB: B.rootExact.toString(),
    };
  }

  async sandwich(
    sel: Selection,
    functionName: string,
    opts?: { maxNodes?: number },
  ): Promise<{ callers: FlameTree; callees: FlameTree }> {
    const { shape, pairs } = await this.nodeValues(sel);
    const dict = this.parts.dictionary;
    const callers = new PathTree();
    const callees = new PathTree();
    let frameType = '';
    const path: number[] = [];
    for (let i = 0; i < pairs.nodes.length; i++) {
      path.length = 0;
      for (let n = pairs.nodes[i]!; n > 0; n = shape.parent[n]!) path.push(shape.frame[n]!);
      path.reverse();
      // The outermost call of the function: recursion below it stays inside the callee tree, counted once.
      const at = path.findIndex((f) => dict.frames[f]!.name === functionName);
      if (at < 0) continue;
      frameType ||= dict.frames[path[at]!]!.frameType;
      callees.add(path.slice(at + 1), pairs.values[i]!);
      callers.add(path.slice(0, at).reverse(), pairs.values[i]!);
    }
    const maxNodes = opts?.maxNodes ?? DEFAULT_MAX_NODES;
    const name = (f: number): string => dict.frames[f]!.name;
    const type = (f: number): string => dict.frames[f]!.frameType;
    return {
      callers: callers.finish(name, type, functionName, frameType, maxNodes),
      callees: callees.finish(name, type, functionName, frameType, maxNodes),
    };
  }

  async traces(sel: Selection, limit: number = DEFAULT_TRACES_LIMIT): Promise<TraceSummary[]> {
    const where = whereOf(resolveSelection(sel, this.parts.dictionary), ['trace_id IS NOT NULL']);
    const n = Math.max(0, Math.floor(limit));
    const [trace, spans, sum] = await this.read((c) =>
      readColumns(
        c,
        `SELECT trace_id, COUNT(DISTINCT span_id), SUM(value) AS v FROM samples WHERE ${where}
         GROUP BY trace_id ORDER BY v DESC, trace_id LIMIT ${n}`,
      ),
    );
    return trace!.map((t, i) => ({
      traceId: BigInt(t as bigint)
        .toString(16)
        .padStart(TRACE_HEX_DIGITS, '0'),
      spanIds: Number(spans![i]),
      samples: BigInt(sum![i] as bigint).toString(),
    }));
  }

  async pprof(sel: Selection): Promise<Uint8Array> {
    const dict = this.parts.dictionary;
    const resolved: ResolvedSelection = resolveSelection(sel, dict);
    const where = whereOf(resolved);
    const [columns, range] = await this.read(async (c) => [
      await readColumns(
        c,
        `SELECT node, series, attrs, trace_id, span_id, SUM(value) FROM samples WHERE ${where} GROUP BY ALL`,
      ),
      await readColumns(c, `SELECT MIN(time), MAX(time) FROM samples WHERE ${where}`),
    ]);
    const from = sel.from ?? (range[0]![0] !== null ? BigInt(range[0]![0] as bigint) : 0n);
    const to = sel.to ?? (range[1]![0] !== null ? BigInt(range[1]![0] as bigint) + 1n : from);
    return buildStorePprof(dict, resolved, columns, from, to);
  }

  async stats(): Promise<StoreStats> {
    const [[count, min, max], used] = await this.read(async (c) => [
      await readColumns(c, 'SELECT COUNT(*), MIN(time), MAX(time) FROM samples'),
      await usedBytes(c, this.parts.databasePath),
    ]);
    return {
      usedBytes: used,
      samples: BigInt(count![0] as bigint).toString(),
      bytes: storeBytes(this.parts.databasePath),
      oldest: min![0] === null ? null : BigInt(min![0] as bigint),
      newest: max![0] === null ? null : BigInt(max![0] as bigint),
      deletedByRetention: this.deletedByRetention.toString(),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    // Let queued writes finish (each resolves only once durable), then fold the log into the file.
    await this.writes.run(async () => {
      if (!this.fatal) await this.parts.writer.run('CHECKPOINT').catch(() => undefined);
    });
    await this.reads.run(() => Promise.resolve());
    this.closed = true;
    this.parts.reader.closeSync();
    this.parts.writer.closeSync();
    this.parts.instance.closeSync();
    this.parts.release();
  }
}
