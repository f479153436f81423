/**
 * The embedded analytical store of `serve`: what the receiver writes into and the query API reads from.
 *
 * Times are Unix nanoseconds (bigint). Counts and sums that may exceed 2^53 are exact decimal strings.
 */
import type { Logger } from '../observability/logger.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';

/** What a query selects. Times are Unix nanoseconds, half-open [from, to). */
export interface Selection {
  readonly from?: bigint;
  readonly to?: bigint;
  /** Profile type id "sampleType.type/sampleType.unit", e.g. "samples/count"; default: the CPU type when stored, else the first type. */
  readonly type?: string;
  /** Attribute key -> accepted values (OR within a key, AND across keys); resource or sample attributes. */
  readonly filters: ReadonlyMap<string, readonly string[]>;
  /** 32 lowercase hex chars: only samples whose Link has this trace id. */
  readonly traceId?: string;
  /** 16 lowercase hex chars (with traceId). */
  readonly spanId?: string;
}

export interface ProfileTypeInfo {
  id: string;
  sampleType: { type: string; unit: string };
  periodType: { type: string; unit: string };
  /** int64 decimal. */
  period: string;
  /** Decimal count of stored sample rows. */
  samples: string;
}

/** Nodes in pre-order: parent[i] < i; node 0 is the root ("total"). */
export interface FlameTree {
  /** String table for node names. */
  readonly names: readonly string[];
  /** Index into names per node. */
  readonly name: Int32Array | number[];
  /** -1 for the root. */
  readonly parent: Int32Array | number[];
  /** Per node: "kernel" | "native" | "interpreted name" ... from profile.frame.type ("" unknown). */
  readonly frameType: readonly string[];
  /** Per node (exact while < 2^53). */
  readonly total: number[];
  readonly self: number[];
  /** Exact decimal, may exceed 2^53. */
  readonly rootTotal: string;
  /** Nodes dropped below maxNodes / min share. */
  readonly truncated: number;
}

export interface DiffTree extends FlameTree {
  readonly totalB: number[];
  readonly selfB: number[];
  readonly rootTotalB: string;
}

export interface IngestResult {
  acceptedProfiles: number;
  rejectedProfiles: number;
  samples: number;
  errorMessage?: string;
}

export interface TopFunction {
  name: string;
  frameType: string;
  self: string;
  total: string;
}

export interface TimelinePoint {
  t: bigint;
  value: string;
}

export interface TraceSummary {
  traceId: string;
  spanIds: number;
  samples: string;
}

export interface StoreStats {
  samples: string;
  bytes: number;
  oldest: bigint | null;
  newest: bigint | null;
  /** Bytes the data occupies (DuckDB blocks in use + write-ahead log): what `maxBytes` caps. `bytes` is the files' size. */
  usedBytes: number;
  /** Sample rows retention deleted since the store was opened (decimal). */
  deletedByRetention: string;
}

/** How busy the single writer is: the server answers 503 + Retry-After while `saturated`. */
export interface StoreBacklog {
  pendingRequests: number;
  pendingSamples: number;
  saturated: boolean;
}

export interface ProfileStore {
  /**
   * Stores a request; resolves only once durable (kill -9 after loses nothing). Throws InvalidRequestError
   * (see invalid-request-error.ts) when the conformance validator rejects the request as a whole; profiles with
   * invalid indices are rejected one by one (partial success with counts).
   */
  ingest(request: ExportProfilesServiceRequest): Promise<IngestResult>;
  profileTypes(): Promise<ProfileTypeInfo[]>;
  timeRange(sel?: Selection): Promise<{ from: bigint; to: bigint } | null>;
  /** Every resource + sample attribute key. */
  labelValues(sel: Selection): Promise<Record<string, { value: string; samples: string }[]>>;
  flameGraph(sel: Selection, opts?: { maxNodes?: number }): Promise<FlameTree>;
  topFunctions(sel: Selection, limit?: number): Promise<TopFunction[]>;
  timeline(sel: Selection, stepNs?: bigint): Promise<{ stepNs: bigint; points: TimelinePoint[] }>;
  diff(a: Selection, b: Selection, opts?: { maxNodes?: number }): Promise<DiffTree>;
  sandwich(
    sel: Selection,
    functionName: string,
    opts?: { maxNodes?: number },
  ): Promise<{ callers: FlameTree; callees: FlameTree }>;
  traces(sel: Selection, limit?: number): Promise<TraceSummary[]>;
  /** Gzipped pprof that `go tool pprof` reads; values exact. */
  pprof(sel: Selection): Promise<Uint8Array>;
  stats(): Promise<StoreStats>;
  /** Synchronous: the writer's queue right now. */
  backlog(): StoreBacklog;
  close(): Promise<void>;
}

export interface ProfileStoreOptions {
  /** Keep samples this many ms (0 = keep). */
  readonly retention?: number;
  /** Cap on the database size in bytes (0 = no cap). */
  readonly maxBytes?: number;
  readonly logger: Logger;
}

// `openProfileStore(dir, options): Promise<ProfileStore>` lives in open-profile-store.ts; the errors it and
// `ingest` throw (StoreLockedError, StoreDirectoryError, InvalidRequestError) in store-errors.ts.
