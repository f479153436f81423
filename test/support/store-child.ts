import { silentLogger } from '../../src/observability/logger.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { captureRequests, selection } from '../store/store-fixtures.js';

/**
 * A separate process using a store, for the durability and lock tests:
 * - `ingest <dir>`: ingests the capture's requests over and over, printing `stored <n> <total>` as each
 *   ingest resolves (n requests and their summed values so far), until killed;
 * - `hold <dir>`: opens the store, prints `open <pid>`, and waits until killed;
 * - `open <dir>`: opens the store and prints `open` or `error <name>: <message>`, then exits.
 */
const [mode, dir] = process.argv.slice(2);
if (!mode || !dir) throw new Error('usage: store-child.ts ingest|hold|open <dir>');

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
