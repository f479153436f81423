import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchDelivery } from '../../../src/exporter/delivery/batch-delivery.js';
import { DropLedger } from '../../../src/exporter/delivery/drop-ledger.js';
import { OutageLog } from '../../../src/exporter/delivery/outage-log.js';
import type { RetriedResponse } from '../../../src/exporter/delivery/retrying-transport.js';
import { SplitOnTooLarge } from '../../../src/exporter/delivery/split-on-too-large.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import { Counters } from '../../../src/observability/counters.js';
import { deliveryConfig, fakeBatch, recordingLogger, VirtualClock } from '../../support/delivery-fakes.js';

const TOO_LARGE: RetriedResponse = {
  status: 'failure',
  tooLarge: true,
  error: new Error('413 Payload Too Large'),
};
const ABANDONED: RetriedResponse = {
  status: 'retryable',
  error: new Error('abandoned'),
  gaveUp: 'abandoned',
  retriedForMs: 0,
};

/** Cuts a fake batch into three pieces of a third of its samples each. */
function inThree(batch: ExportBatch): ExportBatch[] {
  return ['.1', '.2', '.3'].map((suffix) =>
    fakeBatch(batch.id + suffix, { profiles: 1, samples: batch.samples / 3, size: 100 }),
  );
}

function delivery(answer: (batch: ExportBatch) => RetriedResponse) {
  const counters = new Counters();
  const { logger, lines } = recordingLogger();
  const deps = { logger, counters };
  const sent: string[] = [];
  const drops = new DropLedger('lane', deps);
  const lane = new BatchDelivery({
    ...deps,
    exporter: 'lane',
    transport: {
      send: (batch) => {
        sent.push(batch.id);
        return Promise.resolve(answer(batch));
      },
    },
    timeoutMs: 1_000,
    policy: deliveryConfig().retry,
    tooLarge: new SplitOnTooLarge(inThree),
    drops,
    outage: new OutageLog({
      ...deps,
      exporter: 'lane',
      clock: new VirtualClock(),
      backend: 'fake',
      queued: () => 0,
    }),
  });
  return { lane, sent, counters, lines, drops };
}

describe('batch delivery', () => {
  it('delivers the pieces of a batch refused as too large in order, and counts them', async () => {
    const { lane, sent, counters, lines } = delivery((b) =>
      b.id === 'big' ? TOO_LARGE : { status: 'success' },
    );
    const outcome = await lane.deliver(fakeBatch('big', { profiles: 3, samples: 30, size: 300 }));
    assert.deepEqual(outcome, { kind: 'done' });
    assert.deepEqual(sent, ['big', 'big.1', 'big.2', 'big.3']);
    assert.deepEqual(lane.delivered, { requests: 3, profiles: 3, samples: 30 });
    assert.equal(counters.get('requests_split', { exporter: 'lane' }), 1);
    assert.ok(
      lines.some((l) => / WARN .*resending it as 3 pieces.*batch\.max_request_size of exporter lane/.test(l)),
    );
  });

  it('an abandoned piece leaves itself and the pieces after it, not the ones delivered', async () => {
    const { lane, drops } = delivery((b) =>
      b.id === 'big' ? TOO_LARGE : b.id === 'big.2' ? ABANDONED : { status: 'success' },
    );
    const outcome = await lane.deliver(fakeBatch('big', { profiles: 3, samples: 30, size: 300 }));
    assert.deepEqual(outcome, { kind: 'abandoned', remaining: { requests: 2, profiles: 2, samples: 20 } });
    assert.deepEqual(lane.delivered, { requests: 1, profiles: 1, samples: 10 });
    assert.deepEqual(drops.droppedByReason(), {}, 'abandoned is not dropped here: the lane decides');
  });

  it('cuts a batch before sending once a smaller size was refused', async () => {
    const { lane, sent, lines } = delivery((b) =>
      b.bytes.length >= 300 ? TOO_LARGE : { status: 'success' },
    );
    await lane.deliver(fakeBatch('first', { samples: 3, size: 300 }));
    sent.length = 0;
    await lane.deliver(fakeBatch('second', { samples: 3, size: 400 }));
    assert.deepEqual(sent, ['second.1', 'second.2', 'second.3']);
    assert.ok(lines.some((l) => / DEBUG .*cutting a 400-byte request into 3 pieces before sending/.test(l)));
  });
});
