/** Shapes of the `serve` query API's JSON answers (docs/architecture.md, "Query API"). */

/** A flame tree: nodes in pre-order (parent[i] < i), node 0 the root. */
export interface FlameTreeJson {
  readonly names: readonly string[];
  readonly name: readonly number[];
  readonly parent: readonly number[];
  readonly frameType: readonly string[];
  readonly total: readonly number[];
  readonly self: readonly number[];
  /** Exact decimal: may exceed 2^53. */
  readonly rootTotal: string;
  /** Nodes the server dropped (below its node limit or minimum share). */
  readonly truncated: number;
  readonly unit?: string;
  readonly type?: string;
}

/** Selection A's values in total/self, selection B's in totalB/selfB, over the same nodes. */
export interface DiffTreeJson extends FlameTreeJson {
  readonly totalB: readonly number[];
  readonly selfB: readonly number[];
  readonly rootTotalB: string;
}

export interface ProfileTypeInfo {
  readonly id: string;
  readonly sampleType: { readonly type: string; readonly unit: string };
  readonly periodType: { readonly type: string; readonly unit: string };
  /** int64 decimal, in periodType.unit. */
  readonly period: string;
  readonly samples: string;
}

export interface LabelValue {
  readonly value: string;
  readonly samples: string;
}

export interface TopFunction {
  readonly name: string;
  readonly frameType: string;
  readonly self: string;
  readonly total: string;
}

export interface TimelineJson {
  /** Interval length, ms. */
  readonly step: number;
  /** [start of the interval (Unix ms), value]. */
  readonly points: readonly (readonly [number, number])[];
}

export interface TraceInfo {
  readonly traceId: string;
  readonly spanIds: number;
  readonly samples: string;
}

export interface SandwichJson {
  readonly callers: FlameTreeJson;
  readonly callees: FlameTreeJson;
}

/** One `event: stored` notice of /api/events. */
export interface StoredNotice {
  readonly to: number;
  readonly samples: number;
}
