import { createLogger } from '../../src/observability/logger.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { captureRequests, tempDir } from './store-fixtures.js';
const dir = tempDir();
let store = await openProfileStore(dir.path, { logger: createLogger() });
for (let round = 0; round < 30; round++)
  for (const r of captureRequests(13, BigInt(round) * 60_000_000_000n)) await store.ingest(r);
await store.close();
store = await openProfileStore(dir.path, { logger: createLogger(), maxBytes: 1_700_000 });
console.log('after size retention', await store.stats());
await store.close();
dir.remove();
