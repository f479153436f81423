import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import type { ProfileStore, ProfileStoreOptions } from '../../src/store/profile-store.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { StoreLockedError } from '../../src/store/store-errors.js';
import { runCli } from '../support/cli-harness.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';
import { CPU_EXPECTED } from '../support/sinks-fixtures.js';
import {
  CAPTURE_TOTAL,
  newDataDir,
  spawnServe,
  startTestServe,
  storableSinkRequest,
  storedTotal,
} from '../serve/serve-fixtures.js';
import { grpcExport, postOtlp } from './receiver-fixtures.js';

/**
 * A store whose writer reports itself saturated on every other request: what a slow disk looks like to
 * the receiver. Everything else is the real store.
 */
function everyOtherSaturated(refusals: { count: number }) {
  return async (dir: string, options: ProfileStoreOptions): Promise<ProfileStore> => {
    const real = await openProfileStore(dir, options);
    let calls = 0;
    const backlog = (): ReturnType<ProfileStore['backlog']> => {
      const saturated = calls++ % 2 === 0;
      if (saturated) refusals.count++;
      return { ...real.backlog(), saturated };
    };
    return new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'backlog') return backlog;
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

describe('receiver: backpressure and durability', () => {
  for (const protocol of ['grpc', 'http/protobuf'] as const) {
    it(`${protocol}: 503 / UNAVAILABLE with a retry delay makes the real exporter retry and deliver everything`, async () => {
      const refusals = { count: 0 };
      const serve = await startTestServe({ openStore: everyOtherSaturated(refusals) });
      try {
        const direct =
          protocol === 'grpc'
            ? await grpcExport(serve.app.grpcAddress, encodeExportRequest(storableSinkRequest()))
            : await postOtlp(serve.app.httpUrl, encodeExportRequest(storableSinkRequest()));
        if ('code' in direct) {
          assert.equal(direct.code, 14);
          assert.equal(direct.status?.retryDelayMs, 1000);
          assert.match(direct.details, /the store is behind/);
        } else {
          assert.equal(direct.status, 503);
          assert.equal(direct.retryAfter, '1');
        }
        const endpoint = protocol === 'grpc' ? `http://${serve.app.grpcAddress}` : serve.app.httpUrl;
        const res = await runCli([
          'export',
          '--input',
          BUNDLED_CAPTURE_PATH,
          '--endpoint',
          endpoint,
          '--protocol',
          protocol,
          '--insecure',
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.ok(refusals.count >= 2, `the exporter was refused (${refusals.count})`);
        assert.equal(await storedTotal(serve.app.httpUrl, '?type=samples/count'), CAPTURE_TOTAL + 0n);
      } finally {
        await serve.cleanup();
      }
    });
  }

  it('kill -9 right after a 200: the restarted serve has the data', async () => {
    const dataDir = newDataDir();
    try {
      const first = await spawnServe(dataDir);
      const reply = await postOtlp(first.httpUrl, encodeExportRequest(storableSinkRequest()));
      first.child.kill('SIGKILL');
      assert.equal(reply.status, 200, reply.body.toString());
      assert.equal(await first.exited, 'SIGKILL');
      const second = await spawnServe(dataDir);
      try {
        assert.equal(await storedTotal(second.httpUrl, '?type=samples/count'), CPU_EXPECTED.total);
      } finally {
        second.child.kill('SIGTERM');
        assert.equal(await second.exited, 0, second.output());
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('two serves on one --data: the second refuses, naming the first one’s pid and the way out', async () => {
    const dataDir = newDataDir();
    try {
      const first = await spawnServe(dataDir);
      try {
        await assert.rejects(startTestServe({ dataDir }), (err: unknown) => {
          assert.ok(err instanceof StoreLockedError, String(err));
          assert.match(err.message, new RegExp(`process ${first.child.pid}`));
          assert.match(err.message, /another --data/);
          return true;
        });
        const cli = await runCli([
          'serve',
          '--data',
          dataDir,
          '--grpc',
          '127.0.0.1:0',
          '--http',
          '127.0.0.1:0',
        ]);
        assert.equal(cli.code, 1);
        assert.match(cli.stderr, /is in use by process \d+/);
        // The first one is untouched.
        assert.equal((await fetch(`${first.httpUrl}/healthz`)).status, 200);
      } finally {
        first.child.kill('SIGTERM');
        await first.exited;
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
