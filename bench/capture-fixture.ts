import type { ExporterConfig } from '../src/config/exporter-config.js';
import { DEFAULT_BATCH, DEFAULT_RESOURCE, DEFAULT_SAMPLES } from '../src/config/load-config.js';
import type { GadgetRow } from '../src/rows/gadget-row.js';
import { PROFILE_CPU_SPEC } from '../src/gadget-bridge/profile-presets.js';
import type { ProfileSpec } from '../src/rows/profile-spec.js';
import type { RowBatch } from '../src/rows/row-batch.js';
import { Counters } from '../src/observability/counters.js';
import type { ExportProfilesServiceRequest } from '../src/profiles/model/otlp-model.js';
import { generateRequest } from '../src/profiles/request/request-generator.js';
import type { EncodedRequest } from '../src/profiles/request/request-splitter.js';
import { splitRequest } from '../src/profiles/request/request-splitter.js';
import { ResourceResolver } from '../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../src/profiles/aggregation/sample-aggregator.js';
import type { CaptureShape } from './synthetic-capture.js';
import { BENCH_SHAPE, generateCaptureFetches } from './synthetic-capture.js';

/**
 * The benchmark capture (generated once per process) and the in-process core pipeline the
 * throughput and size benchmarks drive: rows → SampleAggregator → generateRequest → splitRequest
 * (which encodes), with the exporter's real defaults (resource grouping, sample merge, limits).
 */

/** `--quick` capture: the full shape cut to this many fetches of 1,000 rows. */
const QUICK_FETCHES = 20;
/** IG's default map-fetch-interval: each fetch covers one second. */
export const FETCH_INTERVAL_NANO = 1_000_000_000n;
/** A 5 s flush interval with 1 s fetches flushes every 5 fetches. */
export const FETCHES_PER_FLUSH = 5;
/** Fixed start of the synthetic timeline (2025-11-21T00:00:00Z), so runs are comparable. */
const TIMELINE_START_NANO = 1_763_683_200_000_000_000n;

export interface Capture {
  readonly shape: CaptureShape;
  /** Row JSON texts per fetch (1,000 rows each). */
  readonly fetches: readonly (readonly string[])[];
  /** One `-o json` line per fetch. */
  readonly lines: readonly string[];
  readonly rows: number;
  readonly bytes: number;
}

let cached: Capture | undefined;

/** The ≈200k-row capture (`BENCH_SHAPE`), or a 20k-row cut of it for `--quick`. */
export function loadCapture(quick: boolean): Capture {
  const shape: CaptureShape = quick ? { ...BENCH_SHAPE, fetches: QUICK_FETCHES } : BENCH_SHAPE;
  if (cached && cached.shape.fetches === shape.fetches) return cached;
  const fetches = [...generateCaptureFetches(shape)];
  const lines = fetches.map((rows) => `[${rows.join(',')}]`);
  let rows = 0;
  let bytes = 0;
  for (const f of fetches) rows += f.length;
  for (const l of lines) bytes += l.length;
  cached = { shape, fetches, lines, rows, bytes };
  return cached;
}

/** Regroups the capture's rows into `-o json` lines of exactly `rowsPerLine` rows (a remainder is left out). */
export function regroupLines(capture: Capture, rowsPerLine: number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  for (const fetch of capture.fetches) {
    for (const row of fetch) {
      current.push(row);
      if (current.length === rowsPerLine) {
        out.push(`[${current.join(',')}]`);
        current = [];
      }
    }
  }
  return out;
}

/** The exporter defaults the in-process benchmarks use (what `export` runs with unless configured). */
export const BENCH_RESOURCE = DEFAULT_RESOURCE;
export const BENCH_SAMPLE_MERGE = DEFAULT_SAMPLES.merge;
export const BENCH_LIMITS = {
  maxRequestBytes: DEFAULT_BATCH.maxRequestBytes,
  maxSamplesPerProfile: DEFAULT_BATCH.maxSamplesPerProfile,
} as const;

export function batchOfFetch(
  rows: readonly GadgetRow[],
  fetchIndex: number,
  spec: ProfileSpec = PROFILE_CPU_SPEC,
): RowBatch {
  const start = TIMELINE_START_NANO + BigInt(fetchIndex) * FETCH_INTERVAL_NANO;
  return {
    spec,
    rows,
    windowStartUnixNano: start,
    windowEndUnixNano: start + FETCH_INTERVAL_NANO,
    origin: `bench fetch ${fetchIndex}`,
  };
}

export interface CorePipelineOptions {
  readonly sampleMerge?: ExporterConfig['samples']['merge'];
  readonly resource?: ExporterConfig['resource'];
}

export interface Flushed {
  readonly request: ExportProfilesServiceRequest;
  readonly pieces: EncodedRequest[];
  /** Time in drain + generateRequest, and in splitRequest (trial encode, cuts, pieces). */
  readonly generateMs: number;
  readonly encodeMs: number;
}

/** The exporter's ingest → flush path without I/O, as ProfilesPipeline runs it. */
export interface CorePipeline {
  add(batch: RowBatch): void;
  /** Drain → generate → split/encode; undefined when nothing is pending. */
  flush(): Flushed | undefined;
  readonly counters: Counters;
}

export function createCorePipeline(options: CorePipelineOptions = {}): CorePipeline {
  const resources = new ResourceResolver({ config: options.resource ?? BENCH_RESOURCE });
  const counters = new Counters();
  const aggregator = new SampleAggregator({ resources, counters, exporter: 'bench' });
  const sampleMerge = options.sampleMerge ?? BENCH_SAMPLE_MERGE;
  return {
    counters,
    add: (batch) => aggregator.add(batch),
    flush: () => {
      if (aggregator.pendingRows === 0) return undefined;
      const t0 = process.hrtime.bigint();
      const request = generateRequest(aggregator.drain(), { resources, sampleMerge });
      if (!request) return undefined;
      const t1 = process.hrtime.bigint();
      const { pieces } = splitRequest(request, BENCH_LIMITS);
      const t2 = process.hrtime.bigint();
      return { request, pieces, generateMs: Number(t1 - t0) / 1e6, encodeMs: Number(t2 - t1) / 1e6 };
    },
  };
}
