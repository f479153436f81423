import type { FieldRecord } from '../src/rows/gadget-row.js';
import { gadgetRows } from '../src/rows/gadget-row.js';
import { parseJsonDeferringExactness } from '../src/gadget-bridge/json/deferred-exact-json.js';
import { encodeExportRequest } from '../src/profiles/encoding/encode-request.js';
import type { ExportProfilesServiceRequest } from '../src/profiles/model/otlp-model.js';
import { generateRequest } from '../src/profiles/request/request-generator.js';
import { splitRequest } from '../src/profiles/request/request-splitter.js';
import { ResourceResolver } from '../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../src/profiles/aggregation/sample-aggregator.js';
import { Counters } from '../src/observability/counters.js';
import type { Benchmark, BenchOptions, BenchResult } from './bench-harness.js';
import { collectGarbage, fmt, fmtInt, fmtMiB, fmtRatio, verdict } from './bench-harness.js';
import { BENCH_LIMITS, BENCH_RESOURCE, batchOfFetch, loadCapture } from './capture-fixture.js';

/**
 * Issue 3 (batching and size limits): the cost of cutting a request over the 4 MiB default into
 * pieces with fresh, minimal dictionaries (`splitRequest`), relative to encoding it once.
 */

/** Timed runs of each operation; the best is reported. */
const REPETITIONS = 3;
/** The whole capture in one flush is well over the limit; merge `per-fetch` makes it larger still. */
const SPLIT_MERGE = 'per-fetch' as const;
/** The informative finer cut. */
const FINE_LIMIT_BYTES = 1024 * 1024;

function bestMs(reps: number, fn: () => void): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    collectGarbage();
    const start = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e6);
  }
  return best;
}

function measure(options: BenchOptions): BenchResult {
  const capture = loadCapture(options.quick);
  const resources = new ResourceResolver({ config: BENCH_RESOURCE });
  const aggregator = new SampleAggregator({ resources, counters: new Counters(), exporter: 'bench' });
  capture.lines.forEach((line, i) =>
    aggregator.add(batchOfFetch(gadgetRows(parseJsonDeferringExactness(line) as FieldRecord[]), i)),
  );
  const request = generateRequest(aggregator.drain(), {
    resources,
    sampleMerge: SPLIT_MERGE,
  }) as ExportProfilesServiceRequest;
  const whole = encodeExportRequest(request);
  // The quick capture is smaller than 4 MiB: cut it to ~3 pieces' worth so the split still runs.
  const limit =
    whole.length > BENCH_LIMITS.maxRequestBytes
      ? BENCH_LIMITS.maxRequestBytes
      : Math.floor(whole.length / 2.5);
  const limits = { maxRequestBytes: limit, maxSamplesPerProfile: BENCH_LIMITS.maxSamplesPerProfile };
  options.log(`split: request of ${fmtMiB(whole.length)} against a ${fmtMiB(limit)} limit`);

  const reps = options.quick ? 1 : REPETITIONS;
  const encodeMs = bestMs(reps, () => encodeExportRequest(request));
  let result = splitRequest(request, limits);
  const splitMs = bestMs(reps, () => {
    result = splitRequest(request, limits);
  });
  const pieces = result.pieces;
  const piecesBytes = pieces.reduce((a, p) => a + p.bytes.length, 0);
  const largest = Math.max(...pieces.map((p) => p.bytes.length));
  const samplesIn = pieces.reduce((a, p) => a + p.samples, 0) + result.droppedSamples;
  let totalSamples = 0;
  for (const rp of request.resourceProfiles)
    for (const sp of rp.scopeProfiles) for (const p of sp.profiles) totalSamples += p.samples.length;
  const ratio = splitMs / encodeMs;
  // Informative: the same request cut much finer (e.g. a backend with a 1 MiB limit).
  const fineLimits = { ...limits, maxRequestBytes: FINE_LIMIT_BYTES };
  let fine = splitRequest(request, fineLimits);
  const fineMs = bestMs(reps, () => {
    fine = splitRequest(request, fineLimits);
  });
  const fineBytes = fine.pieces.reduce((a, p) => a + p.bytes.length, 0);
  return {
    status: 'ran',
    measurements: [
      {
        what: `split time (${pieces.length} pieces) vs one encode of the whole request`,
        baseline: `${fmt(encodeMs)} ms (encodeExportRequest, ${fmtMiB(whole.length)})`,
        ours: `${fmt(splitMs)} ms (splitRequest)`,
        ratio: fmtRatio(ratio),
        target: 'none set (informative)',
        verdict: 'n/a',
      },
      {
        what: 'every piece within the limit, no sample lost',
        baseline: `limit ${fmtMiB(limit)}; ${fmtInt(totalSamples)} samples in`,
        ours: `largest piece ${fmtMiB(largest)}; ${fmtInt(samplesIn)} samples out`,
        ratio: fmtRatio(largest / limit),
        target: '≤ 1× and samples equal',
        verdict: verdict(largest <= limit && samplesIn === totalSamples && result.droppedSamples === 0),
      },
    ],
    method: [
      `One request holding the whole capture (${fmtInt(capture.rows)} rows in one flush, sample merge \`${SPLIT_MERGE}\` to make it large): ${fmtInt(totalSamples)} samples in ${request.resourceProfiles.length} resources, ${fmtMiB(whole.length)} encoded.`,
      `\`splitRequest\` with max_request_size ${fmtMiB(limit)}${limit === BENCH_LIMITS.maxRequestBytes ? ' (the default)' : ' (quick mode: the request is smaller than 4 MiB, so the limit is cut to make ~3 pieces)'} and ${fmtInt(BENCH_LIMITS.maxSamplesPerProfile)} samples per profile. Its time includes the trial encode of the whole request, choosing the cut, building a fresh minimal dictionary per piece and encoding every piece. Best of ${reps}.`,
    ],
    details: [
      `- ${pieces.length} pieces, ${fmtMiB(piecesBytes)} in total = ${fmtRatio(piecesBytes / whole.length)} of the unsplit bytes (each piece repeats the dictionary entries it references: strings, functions, locations, stacks shared across pieces).`,
      `- Piece sizes: ${pieces.map((p) => fmtMiB(p.bytes.length)).join(', ')}.`,
      `- The same request against a ${fmtMiB(FINE_LIMIT_BYTES)} limit (informative): ${fine.pieces.length} pieces, ${fmtMiB(fineBytes)} in total = ${fmtRatio(fineBytes / whole.length)} of the unsplit bytes, ${fmt(fineMs)} ms = ${fmtRatio(fineMs / encodeMs)} of one encode; largest piece ${fmtMiB(Math.max(...fine.pieces.map((p) => p.bytes.length)))}.`,
    ],
  };
}

export const splitBenchmark: Benchmark = {
  name: 'split',
  title: 'Split cost',
  issue: 'issue 3',
  run: (options) => Promise.resolve().then(() => measure(options)),
};
