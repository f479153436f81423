import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createExporter } from '../../../src/exporter/delivery/exporter.js';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import { Counters } from '../../../src/observability/counters.js';
import { LatencyHistogram } from '../../../src/observability/latency-histogram.js';
import {
  deliveryConfig,
  fakeBatch,
  recordingLogger,
  ScriptedTransport,
  SUCCESS,
  until,
  VirtualClock,
} from '../../support/delivery-fakes.js';

const REFUSED: ExportResponse = { status: 'failure', error: new Error('401 Unauthorized') };

describe('exporter: health for /readyz and the latency histogram', () => {
  it('is failing after a permanent refusal, until the next success; each attempt is timed by outcome', async () => {
    const clock = new VirtualClock();
    const transport = new ScriptedTransport((batch) => (batch.id === 'bad' ? REFUSED : SUCCESS), clock);
    const latency = new LatencyHistogram();
    const exporter = createExporter({
      name: 'prod',
      config: deliveryConfig({ name: 'prod' }),
      transport,
      split: () => assert.fail('split not expected'),
      logger: recordingLogger().logger,
      counters: new Counters(),
      clock,
      latency,
    });
    await exporter.start();
    assert.equal(exporter.stats().failing, undefined);
    await exporter.enqueue(fakeBatch('bad'));
    await until(() => exporter.stats().failing !== undefined, 'the refusal');
    assert.match(
      exporter.stats().failing ?? '',
      /^permanent_error: the backend refused it: 401 Unauthorized$/,
    );
    await exporter.enqueue(fakeBatch('good'));
    await until(() => transport.delivered.includes('good'), 'the next delivery');
    assert.equal(exporter.stats().failing, undefined);
    const byOutcome: Record<string, number> = Object.fromEntries(
      latency.series().map((s) => [s.labels.outcome ?? '', s.count] as const),
    );
    assert.deepEqual(byOutcome, { failure: 1, success: 1 });
    assert.deepEqual(
      latency.series().map((s) => s.labels.exporter),
      ['prod', 'prod'],
    );
    await exporter.shutdown(1_000);
  });
});
