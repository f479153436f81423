import { gzipSync } from 'node:zlib';
import { silentLogger } from '../src/observability/logger.js';
import { openProfileStore } from '../src/store/open-profile-store.js';
import { batchOfFetch, createCorePipeline, FETCHES_PER_FLUSH, loadCapture } from './capture-fixture.js';
import { createLineParser, lineBytes } from './ingest-benchmark.js';

/**
 * The store-query benchmark's filling step, in a process of its own (`store-query-fill.ts <dir> [quick]`):
 * the benchmark capture through the exporter's pipeline into OTLP requests, ingested into the store in
 * <dir>. Prints one JSON line: requests, stored rows, the requests' protobuf+gzip bytes, ingest ms, capture
 * rows. Apart, because the capture's hundreds of MB on the heap would make every later garbage collection of
 * the querying process slow, which a real `serve` does not carry.
 */
const [dir, quickArg] = process.argv.slice(2);
if (!dir) throw new Error('usage: store-query-fill.ts <dir> [quick]');
const capture = loadCapture(quickArg === 'quick');
const pipeline = createCorePipeline();
const parseLine = createLineParser();
const pieces: {
  request: Parameters<Awaited<ReturnType<typeof openProfileStore>>['ingest']>[0];
  bytes: Uint8Array;
}[] = [];
lineBytes(capture.lines).forEach((line, i, all) => {
  pipeline.add(batchOfFetch(parseLine(line), i));
  if ((i + 1) % FETCHES_PER_FLUSH === 0 || i === all.length - 1)
    pieces.push(...(pipeline.flush()?.pieces ?? []));
});
let gzipBytes = 0;
for (const p of pieces) gzipBytes += gzipSync(p.bytes).length;
const store = await openProfileStore(dir, { logger: silentLogger });
const t0 = Date.now();
for (const p of pieces) await store.ingest(p.request);
const ingestMs = Date.now() - t0;
const rows = Number((await store.stats()).samples);
await store.close();
process.stdout.write(
  `${JSON.stringify({ requests: pieces.length, rows, gzipBytes, ingestMs, captureRows: capture.rows })}\n`,
);
