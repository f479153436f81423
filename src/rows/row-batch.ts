import type { GadgetRow } from './gadget-row.js';
import type { ProfileSpec } from './profile-spec.js';

/**
 * One emission of a gadget datasource (one IG fetch: a `-o json` line, a `logs` envelope, a gRPC
 * GadgetDataArray) with the wall-clock window its rows were collected in.
 */
export interface RowBatch {
  /** Which datasource the rows belong to and how they map onto a profile. */
  readonly spec: ProfileSpec;
  readonly rows: readonly GadgetRow[];
  /** Collection window [start, end) in UNIX nanoseconds. IG rows carry no timestamp. */
  readonly windowStartUnixNano: bigint;
  readonly windowEndUnixNano: bigint;
  /** Where the batch came from, for messages: `stdin line 12`, `node-a/samples seq 40`. */
  readonly origin: string;
  /**
   * Called once this batch and every earlier batch of its source are in the queues of all the
   * exporters they were routed to (or were dropped and counted): the source may record its progress
   * (a followed file's checkpoint). Must not throw.
   */
  readonly acknowledge?: () => void;
}

/** A producer of row batches: JSON readers, the IG gRPC client, the Kubernetes fan-in. */
export interface RowSource {
  /** Batches in arrival order; the iterable ends at end of input. */
  batches(): AsyncIterable<RowBatch>;
  /** Stop reading (SIGTERM); sources that can ask the gadget for a final flush do so first. */
  stop(): Promise<void>;
}
