import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freeOrAny } from '../../src/cli/demo-command.js';
import { runCli, tempDir } from '../support/cli-harness.js';
import {
  CAPTURE_TOTAL,
  FREE_PORTS,
  getJson,
  newDataDir,
  spawnWatched,
  startTestServe,
  storedTotal,
  testLogger,
} from '../serve/serve-fixtures.js';

const go = spawnSync('go', ['version'], { encoding: 'utf8' });

describe('demo --files: the file outputs, no server', () => {
  it('replays the bundled capture into conforming OTLP files and pprof files, and says how to look at them', async () => {
    const dir = tempDir();
    try {
      const res = await runCli(['demo', '--files', '--out', dir.path]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(res.stdout, /every profcheck rule holds/);
      assert.match(res.stdout, /go tool pprof -top /);
      const pprofs = readdirSync(join(dir.path, 'pprof')).filter((f) => f.endsWith('.pb.gz'));
      assert.ok(pprofs.length > 1, 'one pprof per process');
      const validate = await runCli(['validate', join(dir.path, 'profiles.otlp.jsonl')]);
      assert.equal(validate.code, 0, validate.stdout);
    } finally {
      dir.cleanup();
    }
  });

  it(
    'the pprof files it points at open in go tool pprof',
    { skip: go.status === 0 ? false : 'go is not installed (Debian golang-go provides go tool pprof)' },
    async () => {
      const dir = tempDir();
      try {
        const res = await runCli(['demo', '--files', '--out', dir.path]);
        assert.equal(res.code, 0, res.stderr);
        const file = /go tool pprof -top (\S+)/.exec(res.stdout)?.[1];
        assert.ok(file);
        const top = execFileSync(
          'go',
          ['tool', 'pprof', '-top', '-sample_index=cpu', join(dir.path, 'pprof', file.split('/').pop()!)],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'pipe'],
          },
        );
        assert.match(top, /Type: cpu/);
        assert.match(top, /flat%/);
      } finally {
        dir.cleanup();
      }
    },
  );
});

describe('demo: serve fed by the real exporter, behind `npm start`', () => {
  it('--once replays the capture over OTLP into serve, prints the URL and leaves the data in --data', async () => {
    const dataDir = newDataDir();
    try {
      const res = await runCli(['demo', '--once', '--data', dataDir, ...FREE_PORTS]);
      assert.equal(res.code, 0, res.stderr);
      assert.match(
        res.stdout,
        /Replayed .*profile_cpu-capture\.jsonl through the exporter over OTLP\/gRPC into serve/,
      );
      assert.match(res.stdout, /Open http:\/\/127\.0\.0\.1:\d+\/ in a browser/);
      assert.match(res.stdout, /go tool pprof -top 'http:\/\/127\.0\.0\.1:\d+\/api\/pprof'/);
      assert.doesNotMatch(res.stdout, /Replaying it again/);
      const serve = await startTestServe({ dataDir });
      try {
        assert.equal(await storedTotal(serve.app.httpUrl), CAPTURE_TOTAL);
      } finally {
        await serve.app.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('a default port that is taken is replaced by a free one (npm start next to a Collector)', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const taken = (blocker.address() as AddressInfo).port;
    const lines: string[] = [];
    try {
      const moved = await freeOrAny({ host: '127.0.0.1', port: taken }, '--http', testLogger(lines));
      assert.deepEqual(moved, { host: '127.0.0.1', port: 0 });
      assert.match(
        lines.join(''),
        new RegExp(`127\\.0\\.0\\.1:${taken} is taken: --http uses a free port instead`),
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
    assert.deepEqual(await freeOrAny({ host: '127.0.0.1', port: taken }, '--http', testLogger(lines)), {
      host: '127.0.0.1',
      port: taken,
    });
  });

  it('without --once it keeps replaying, shifted to now, until Ctrl-C, then exits 0 with the store closed', async () => {
    const dataDir = newDataDir();
    const demo = spawnWatched(['demo', '--data', dataDir, ...FREE_PORTS]);
    try {
      const url = await demo.waitFor(() => /Open (http:\/\/127\.0\.0\.1:\d+)\//.exec(demo.output())?.[1]);
      await demo.waitFor(() => /Replaying it again every (\d+) s/.exec(demo.output())?.[1]);
      assert.equal(await storedTotal(url), CAPTURE_TOTAL);
      const firstRange = (await getJson(url, '/api/range')).body;
      // The next replay lands one capture length later, ending at the new "now".
      await demo.waitFor(
        async () => ((await storedTotal(url)) === 2n * CAPTURE_TOTAL ? true : undefined),
        90_000,
      );
      const range = (await getJson(url, '/api/range')).body;
      assert.ok((range.to as number) > (firstRange.to as number), 'the second replay is later in time');
      demo.child.kill('SIGINT');
      assert.equal(await demo.exited, 0, demo.output());
      assert.match(demo.output(), /SIGINT: stopping/);
    } finally {
      demo.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
