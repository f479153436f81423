import { silentLogger } from '../../src/observability/logger.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { captureRequests, selection } from '../store/store-fixtures.js';

/**
 * A separate process using a store, for the durability and lock tests:
 * - `ingest <dir>`: ingests the capture's requests over and over, printing `stored <n> <total>` as each
 *   ingest resolves (n requests and their summed values so far), until killed;
 * - `ingest-groups <dir>`: ingests each round's requests all at once (so they share commits), printing
 *   `stored <n> <total>` as each ingest resolves (total: the summed values of the acknowledged requests);
 * - `hold <dir>`: opens the store, prints `open <pid>`, and waits until killed;
 * - `open <dir>`: opens the store and prints `open` or `error <name>: <message>`, then exits.
 */
const [mode, dir] = process.argv.slice(2);
if (!mode || !dir) throw new Error('usage: store-child.ts ingest|ingest-groups|hold|open <dir>');

if (mode === 'open') {
  try {
    const store = await openProfileStore(dir, { logger: silentLogger });
    process.stdout.write('open\n');
    await store.close();
  } catch (err) {
    process.stdout.write(`error ${(err as Error).name}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  }
} else if (mode === 'hold') {
  await openProfileStore(dir, { logger: silentLogger });
  process.stdout.write(`open ${process.pid}\n`);
  setInterval(() => undefined, 1000);
} else if (mode === 'ingest-groups') {
  const store = await openProfileStore(dir, { logger: silentLogger });
  let n = 0;
  let total = 0n;
  for (let round = 0; ; round++) {
    const requests = captureRequests(2, BigInt(round) * 60_000_000_000n);
    await Promise.all(
      requests.map(async (request) => {
        await store.ingest(request);
        n++;
        total += totalSampleValue([request]);
        process.stdout.write(`stored ${n} ${total}\n`);
      }),
    );
  }
} else {
  const store = await openProfileStore(dir, { logger: silentLogger });
  let n = 0;
  let total = 0n;
  for (let round = 0; ; round++) {
    // Each round shifted by a minute, so rows never merge across rounds.
    for (const request of captureRequests(2, BigInt(round) * 60_000_000_000n)) {
      await store.ingest(request);
      n++;
      total = BigInt((await store.flameGraph(selection())).rootTotal);
      process.stdout.write(`stored ${n} ${total}\n`);
    }
  }
}
