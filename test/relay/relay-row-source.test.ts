import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RowBatch } from '../../src/rows/row-batch.js';
import { Counters } from '../../src/observability/counters.js';
import { LossLedger } from '../../src/observability/loss-ledger.js';
import { silentLogger } from '../../src/observability/logger.js';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { IngestGate } from '../../src/receiver/ingest-gate.js';
import { RelayRowSource } from '../../src/relay/relay-row-source.js';
import { igRequest } from '../support/ig-otlp-wire.js';

const SECOND = 1_000_000_000n;

const fromNode = (node: string) =>
  decodeExportRequest(
    igRequest([{ stacks: ['', 'main; '], value: 1, attributes: { 'k8s.node': node } }], { layout: 'v1.10' }),
  );

async function take(source: RelayRowSource, count: number): Promise<RowBatch[]> {
  const out: RowBatch[] = [];
  for await (const batch of source.batches()) {
    out.push(batch);
    if (out.length === count) break;
  }
  return out;
}

describe('RelayRowSource', () => {
  it('counts every request its receivers answer UNAVAILABLE (IG never retries: a loss)', async () => {
    const counters = new Counters();
    const source = new RelayRowSource({
      fieldsRead: () => new Set(),
      fetchIntervalNano: SECOND,
      counters,
      logger: silentLogger,
    });
    const gate = new IngestGate(source, silentLogger, undefined, (reason) => source.countRefused(reason));
    assert.equal((await gate.ingest(fromNode('a'))).kind, 'stored');
    await gate.drain();
    assert.equal((await gate.ingest(fromNode('a'))).kind, 'unavailable');
    assert.equal((await gate.ingest(fromNode('b'))).kind, 'unavailable');
    assert.equal(counters.get('requests_dropped', { reason: 'refused_shutting_down' }), 2);
    assert.ok(new LossLedger(counters).hasLosses(), 'in the ledger: the run exits 3');
  });

  it('times each request by its arrival, one timeline per node', async () => {
    let now = 100n * SECOND;
    const source = new RelayRowSource({
      fieldsRead: () => new Set(),
      fetchIntervalNano: SECOND,
      counters: new Counters(),
      logger: silentLogger,
      now: () => now,
    });
    now += 5n * SECOND;
    await source.ingest(fromNode('a'));
    now += SECOND / 10n;
    await source.ingest(fromNode('b')); // another daemon a moment later: its own full window
    now += SECOND;
    await source.ingest(fromNode('a')); // node a's next fetch continues its timeline
    const windows = (await take(source, 3)).map((b) => [b.windowStartUnixNano, b.windowEndUnixNano]);
    assert.deepEqual(windows, [
      [104n * SECOND, 105n * SECOND],
      [104n * SECOND + SECOND / 10n, 105n * SECOND + SECOND / 10n],
      [105n * SECOND, 106n * SECOND + SECOND / 10n],
    ]);
  });

  it('ends its batches on stop once everything accepted is handed on, and refuses what comes after', async () => {
    let stopped = 0;
    const source = new RelayRowSource({
      fieldsRead: () => new Set(),
      fetchIntervalNano: SECOND,
      counters: new Counters(),
      logger: silentLogger,
      onStop: () => stopped++,
    });
    await source.ingest(fromNode('a'));
    await source.stop();
    assert.equal(stopped, 1);
    await assert.rejects(source.ingest(fromNode('a')), /stopping/);
    const all: RowBatch[] = [];
    for await (const batch of source.batches()) all.push(batch);
    assert.equal(all.length, 1);
  });
});
