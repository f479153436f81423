/**
 * Child process for the file sink's stdout tests: sends `count` batches through a file sink with
 * `path: -` and reports each response as a JSON line on stderr (stdout carries only data).
 * argv: <format json|proto> <count> [delayMs before sending]
 */
import { createFileSink } from '../../src/exporter/sinks/file-sink.js';
import { Counters } from '../../src/observability/counters.js';
import { silentLogger } from '../../src/observability/logger.js';
import { buildSinkRequest, recordBytes, sinkBatch, sinkConfig } from './sinks-fixtures.js';

const format = process.argv[2] === 'json' ? 'json' : 'proto';
const count = Number(process.argv[3] ?? '3');
const delayMs = Number(process.argv[4] ?? '0');

async function main(): Promise<void> {
  if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
  const sink = createFileSink(sinkConfig({ exporter: 'file', name: 'out', path: '-', format }), {
    logger: silentLogger,
    counters: new Counters(),
  });
  for (let i = 0; i < count; i++) {
    const response = await sink.send(sinkBatch(buildSinkRequest(), recordBytes(i), `child-${i}`), 2_000);
    process.stderr.write(
      `${JSON.stringify({ i, status: response.status, error: response.status === 'success' ? undefined : response.error.message })}\n`,
    );
  }
  await sink.shutdown();
}

void main();
