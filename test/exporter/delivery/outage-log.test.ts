import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OutageLog } from '../../../src/exporter/delivery/outage-log.js';
import { Counters } from '../../../src/observability/counters.js';
import { fakeBatch, recordingLogger, unavailable, VirtualClock } from '../../support/delivery-fakes.js';

describe('outage log', () => {
  it('warns once when the backend goes down, retries at debug level, and says when it is back', async () => {
    const clock = new VirtualClock();
    const counters = new Counters();
    const { logger, lines } = recordingLogger();
    const outage = new OutageLog({
      logger,
      counters,
      exporter: 'prod',
      clock,
      backend: 'otlp-grpc 127.0.0.1:4317',
      queued: () => 7,
    });
    outage.recovered();
    assert.deepEqual(lines, [], 'no outage, nothing to say');
    const response = unavailable();
    if (response.status !== 'retryable') throw new Error('unreachable');
    for (let attempt = 1; attempt <= 3; attempt++) {
      outage.failed(response.error);
      outage.retrying(fakeBatch('b'), { delayMs: 1_000 * attempt, attempt, response });
    }
    assert.equal(outage.down, true);
    await new Promise<void>((resolve) => clock.setTimer(resolve, 12_400));
    outage.recovered();
    assert.equal(outage.down, false);
    assert.equal(outage.retries, 3);
    assert.equal(counters.get('requests_retried', { exporter: 'prod' }), 3);
    assert.equal(
      lines.filter((l) =>
        / WARN .*sending to otlp-grpc 127\.0\.0\.1:4317 failed: UNAVAILABLE.*queued=7/.test(l),
      ).length,
      1,
    );
    assert.equal(lines.filter((l) => / DEBUG .*retrying in \d+ ms: UNAVAILABLE.*id=b/.test(l)).length, 3);
    assert.equal(lines.filter((l) => / INFO .*reachable again after 12 s \(3 retries\)/.test(l)).length, 1);

    outage.failed(response.error);
    assert.equal(lines.filter((l) => / WARN /.test(l)).length, 2, 'a new outage is warned about again');
  });
});
