import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExportResponse } from '../../../src/exporter/export-response.js';
import { measureAttempts } from '../../../src/exporter/delivery/measured-transport.js';
import { LatencyHistogram } from '../../../src/observability/latency-histogram.js';
import {
  fakeBatch,
  gate,
  ScriptedTransport,
  SUCCESS,
  unavailable,
  VirtualClock,
} from '../../support/delivery-fakes.js';

describe('measured transport', () => {
  it('records each attempt by exporter and outcome, except one still running when the lane is abandoned', async () => {
    const clock = new VirtualClock();
    const histogram = new LatencyHistogram();
    const abandon = new AbortController();
    const late = gate();
    const answers: Record<string, ExportResponse | Promise<ExportResponse>> = {
      ok: SUCCESS,
      down: unavailable(),
      late: late.wait.then(() => SUCCESS),
    };
    const inner = new ScriptedTransport((b) => answers[b.id]!, clock);
    const measured = measureAttempts(inner, { histogram, exporter: 'prod', clock, abandon: abandon.signal });
    await measured.send(fakeBatch('ok'), 1_000);
    await measured.send(fakeBatch('down'), 1_000);
    const pending = measured.send(fakeBatch('late'), 1_000);
    abandon.abort();
    late.open();
    await pending;
    assert.deepEqual(
      histogram.series().map((s) => [s.labels.exporter, s.labels.outcome, s.count]),
      [
        ['prod', 'success', 1],
        ['prod', 'retryable', 1],
      ],
    );
    await measured.shutdown();
    assert.equal(inner.shutdownCalls, 1);
  });
});
