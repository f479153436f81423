/**
 * Child process of the kill -9 test: an exporter with a persistent queue whose backend is down
 * (a loopback port nobody listens on). It stores `count` batches with ids `kill-<i>`, prints
 * "ready" once every enqueue() resolved, then keeps storing `late-<j>` batches until it is killed.
 * argv: <queue directory> <count> <closed port>
 */
import { connect } from 'node:net';
import { createExporter } from '../../src/exporter/delivery/exporter.js';
import type { ExportResponse } from '../../src/exporter/export-response.js';
import type { ExporterTransport } from '../../src/exporter/exporter-transport.js';
import { Counters } from '../../src/observability/counters.js';
import { createLogger } from '../../src/observability/logger.js';
import { deliveryConfig, fakeBatch } from './delivery-fakes.js';

const [directory, countArg, portArg] = process.argv.slice(2);
const count = Number(countArg);
const port = Number(portArg);

/** Tries a TCP connection to the down endpoint for every send: refused, so retryable. */
const downTransport: ExporterTransport = {
  description: `tcp-probe 127.0.0.1:${port}`,
  send: (_batch, timeoutMs) =>
    new Promise<ExportResponse>((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      socket.setTimeout(timeoutMs);
      const fail = (error: Error): void => {
        socket.destroy();
        resolve({ status: 'retryable', error });
      };
      socket.once('error', fail);
      socket.once('timeout', () => fail(new Error('connect timed out')));
      // Whatever listens there is not an OTLP backend: keep the batch.
      socket.once('connect', () => fail(new Error('unexpected listener')));
    }),
  shutdown: () => Promise.resolve(),
};

async function main(): Promise<void> {
  if (!directory || !(count > 0) || !(port > 0))
    throw new Error('usage: delivery-kill-child.ts <dir> <count> <port>');
  const exporter = createExporter({
    name: 'killed',
    config: deliveryConfig({
      name: 'killed',
      timeoutMs: 1_000,
      retry: { initialIntervalMs: 5, maxIntervalMs: 20, maxElapsedMs: 0 },
      queue: { directory },
    }),
    transport: downTransport,
    split: (b) => [b],
    logger: createLogger({ level: 'error' }),
    counters: new Counters(),
  });
  await exporter.start();
  for (let i = 0; i < count; i++) {
    await exporter.enqueue(
      fakeBatch(`kill-${String(i).padStart(3, '0')}`, { profiles: 1, samples: i, size: 200 + i }),
    );
  }
  process.stdout.write('ready\n');
  // Keep writing so the kill lands in the middle of a write.
  for (let j = 0; ; j++) await exporter.enqueue(fakeBatch(`late-${j}`, { size: 4_096 }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
