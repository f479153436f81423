import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import type { ProfileStore, ProfileStoreOptions } from '../../src/store/profile-store.js';
import { openProfileStore } from '../../src/store/open-profile-store.js';
import { StoreLockedError } from '../../src/store/store-errors.js';
import { runCli } from '../support/cli-harness.js';
import { CPU_EXPECTED } from '../support/sinks-fixtures.js';
import {
  CAPTURE_TOTAL,
  exportCapture,
  FREE_PORTS,
  newDataDir,
  spawnServe,
  startTestServe,
  storableSinkRequest,
  storedTotal,
} from '../serve/serve-fixtures.js';
import { grpcExport, postOtlp } from './receiver-fixtures.js';

/**
 * A store whose writer reports itself saturated for the next `refusals.remaining` requests: what a slow
 * disk looks like to the receiver. Everything else is the real store.
 */
function saturatedFor(refusals: { remaining: number; count: number }) {
  return async (dir: string, options: ProfileStoreOptions): Promise<ProfileStore> => {
    const real = await openProfileStore(dir, options);
    const backlog = (): ReturnType<ProfileStore['backlog']> => {
      const saturated = refusals.remaining > 0;
      if (saturated) {
        refusals.remaining--;
        refusals.count++;
      }
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
      const refusals = { remaining: 1, count: 0 };
      const serve = await startTestServe({ openStore: saturatedFor(refusals) });
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
        // The exporter's first request and its first retry are refused; the second retry is stored.
        refusals.remaining = 2;
        // Short own backoff: the server's retry delay is what spaces the attempts.
        const res = await exportCapture(
          serve.app,
          protocol,
          ['initial_interval=20ms', 'max_interval=50ms', 'max_elapsed_time=60s'].flatMap((kv) => [
            '--set',
            `operator.otel-profiles.exporters.default.retry.${kv}`,
          ]),
        );
        assert.equal(res.code, 0, res.stderr);
        assert.equal(refusals.count, 3, 'one direct refusal, two of the exporter');
        assert.match(res.stderr, /retr/i, 'the exporter reports its retries');
        assert.equal(await storedTotal(serve.app.httpUrl, '?type=samples/count'), CAPTURE_TOTAL);
      } finally {
        await serve.cleanup();
      }
    });
  }

  it('shutdown answers the ingests in flight once stored, refuses new ones with 503, then closes the store', async () => {
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => undefined;
    const inIngest = new Promise<void>((resolve) => (entered = resolve));
    const slowDisk = async (dir: string, options: ProfileStoreOptions): Promise<ProfileStore> => {
      const real = await openProfileStore(dir, options);
      return new Proxy(real, {
        get: (target, prop) => {
          if (prop === 'ingest') {
            return async (request: Parameters<ProfileStore['ingest']>[0]) => {
              entered();
              await held;
              return target.ingest(request);
            };
          }
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    };
    const serve = await startTestServe({ openStore: slowDisk });
    const body = encodeExportRequest(storableSinkRequest());
    try {
      const inFlight = postOtlp(serve.app.httpUrl, body);
      await inIngest;
      const closed = serve.app.close();
      const refused = await grpcExport(serve.app.grpcAddress, body).catch(() => undefined);
      // Either the listener is already gone or it answers UNAVAILABLE: never a silent loss.
      if (refused) assert.equal(refused.code, 14, refused.details);
      release();
      const reply = await inFlight;
      assert.equal(reply.status, 200, reply.body.toString());
      await closed;
      const reopened = await startTestServe({ dataDir: serve.dataDir });
      try {
        assert.equal(await storedTotal(reopened.app.httpUrl, '?type=samples/count'), CPU_EXPECTED.total);
      } finally {
        await reopened.app.close();
      }
    } finally {
      release();
      await serve.cleanup();
    }
  });

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
        const cli = await runCli(['serve', '--data', dataDir, ...FREE_PORTS]);
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
