import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExporterConfig } from '../../src/config/exporter-config.js';
import { DEFAULT_BATCH } from '../../src/config/load-config.js';
import type { ExportBatch } from '../../src/exporter/export-batch.js';
import { ProfilesPipeline } from '../../src/exporter/profiles-pipeline.js';
import { PROFILE_CPU_SPEC } from '../../src/gadget-bridge/profile-presets.js';
import { Counters } from '../../src/observability/counters.js';
import { silentLogger } from '../../src/observability/logger.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { ResourceResolver } from '../../src/profiles/aggregation/resource-attributes.js';
import { assertConforms } from '../../src/profiles/validation/conformance-validator.js';
import { testExporterConfig } from '../support/transport-fixtures.js';
import {
  BUNDLED_CAPTURE_PATH,
  batchOf,
  DEFAULT_RESOURCE_CONFIG,
  exampleEmissions,
} from '../support/profiles-fixtures.js';
import { getInteger } from '../../src/rows/gadget-row.js';

const T0 = 1_763_800_000_000_000_000n;
const emissions = exampleEmissions(BUNDLED_CAPTURE_PATH);
const inputTotal = emissions.flat().reduce((a, r) => a + getInteger(r, 'samples')!, 0n);

function pipelineWith(batch: Partial<ExporterConfig['batch']>): {
  pipeline: ProfilesPipeline;
  sent: ExportBatch[];
  counters: Counters;
} {
  const sent: ExportBatch[] = [];
  const counters = new Counters();
  const base = testExporterConfig();
  const config: ExporterConfig = { ...base, batch: { ...DEFAULT_BATCH, ...batch } };
  const pipeline = new ProfilesPipeline({
    config,
    resources: new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG }),
    consumer: {
      enqueue: (b) => {
        sent.push(b);
        return Promise.resolve();
      },
    },
    counters,
    logger: silentLogger,
    random: () => 0.5,
  });
  return { pipeline, sent, counters };
}

function feed(pipeline: ProfilesPipeline): void {
  emissions.forEach((rows, i) =>
    pipeline.add(
      batchOf(PROFILE_CPU_SPEC, rows, T0 + BigInt(i) * 1_000_000_000n, T0 + BigInt(i + 1) * 1_000_000_000n),
    ),
  );
}

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('ProfilesPipeline (the run loop of one exporter)', () => {
  it('flushes by interval without being asked', async () => {
    const { pipeline, sent } = pipelineWith({ intervalMs: 20, jitter: 0.2 });
    pipeline.start();
    feed(pipeline);
    for (let i = 0; i < 100 && sent.length === 0; i++) await tick(10);
    assert.ok(sent.length >= 1, 'a timed flush happened');
    await pipeline.stop();
    assert.equal(totalSampleValue(sent.map((b) => b.request())), inputTotal);
  });

  it('flushes early once the pending data would fill a maximum-size request, and every piece fits', async () => {
    const maxRequestBytes = 16 * 1024;
    const { pipeline, sent, counters } = pipelineWith({ intervalMs: 60_000, maxRequestBytes });
    pipeline.start();
    for (const [i, rows] of emissions.entries()) {
      pipeline.add(
        batchOf(PROFILE_CPU_SPEC, rows, T0 + BigInt(i) * 1_000_000_000n, T0 + BigInt(i + 1) * 1_000_000_000n),
      );
      await tick(0);
    }
    const beforeStop = sent.length;
    await pipeline.stop();
    assert.ok(beforeStop >= 1, 'flushed before the interval and before stop');
    assert.ok(counters.total('early_flushes') >= 1);
    for (const b of sent) {
      assert.ok(b.bytes.length <= maxRequestBytes);
      assertConforms(b.request());
    }
    assert.equal(totalSampleValue(sent.map((b) => b.request())), inputTotal, 'nothing lost or repeated');
  });

  it('flushes early at max_pending_samples', async () => {
    const { pipeline, sent } = pipelineWith({ intervalMs: 60_000, maxPendingSamples: 50 });
    pipeline.start();
    for (const [i, rows] of emissions.entries()) {
      pipeline.add(
        batchOf(PROFILE_CPU_SPEC, rows, T0 + BigInt(i) * 1_000_000_000n, T0 + BigInt(i + 1) * 1_000_000_000n),
      );
      await tick(0);
    }
    assert.ok(sent.length >= 2);
    await pipeline.stop();
    assert.equal(totalSampleValue(sent.map((b) => b.request())), inputTotal);
  });

  it('stop() flushes what is pending; an empty pipeline sends nothing', async () => {
    const empty = pipelineWith({});
    empty.pipeline.start();
    assert.deepEqual(await empty.pipeline.stop(), { requests: 0, samples: 0 });
    assert.equal(empty.sent.length, 0, 'no empty envelopes');
    const { pipeline, sent } = pipelineWith({});
    pipeline.start();
    feed(pipeline);
    const result = await pipeline.stop();
    assert.equal(result.requests, sent.length);
    assert.equal(totalSampleValue(sent.map((b) => b.request())), inputTotal);
  });

  it('flushedThrough counts the batches whose requests the queue has accepted, not merely drained', async () => {
    let accept: (() => void) | undefined;
    const counters = new Counters();
    let flushedCalls = 0;
    const pipeline = new ProfilesPipeline({
      config: { ...testExporterConfig(), batch: { ...DEFAULT_BATCH, intervalMs: 60_000 } },
      resources: new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG }),
      consumer: { enqueue: () => new Promise<void>((r) => (accept = r)) },
      counters,
      logger: silentLogger,
      onFlushed: () => flushedCalls++,
    });
    feed(pipeline);
    assert.equal(pipeline.added, emissions.length);
    const flushing = pipeline.flush();
    await tick(0);
    pipeline.add(batchOf(PROFILE_CPU_SPEC, emissions[0] ?? [], T0, T0 + 1_000_000_000n)); // after the drain
    assert.equal(pipeline.flushedThrough, 0, 'the queue has not accepted the request yet');
    for (let i = 0; i < 100 && !accept; i++) await tick(1);
    while (accept) {
      const a = accept;
      accept = undefined;
      a();
      await tick(1);
    }
    await flushing;
    assert.equal(pipeline.flushedThrough, emissions.length, 'the batch added after the drain is not counted');
    assert.equal(flushedCalls, 1);
  });
});
