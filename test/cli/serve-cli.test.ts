import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { isLoopback, parseListenAddress } from '../../src/serve/listen-address.js';
import { runCli } from '../support/cli-harness.js';
import { CPU_EXPECTED } from '../support/sinks-fixtures.js';
import { postOtlp } from '../receiver/receiver-fixtures.js';
import {
  newDataDir,
  spawnServe,
  startTestServe,
  storableSinkRequest,
  storedTotal,
} from '../serve/serve-fixtures.js';

describe('serve command', () => {
  it('--help lists exactly the flags, with examples; `help` lists serve', async () => {
    const res = await runCli(['serve', '--help']);
    assert.equal(res.code, 0);
    for (const flag of [
      '--data DIR',
      '--grpc HOST:PORT',
      '--http HOST:PORT',
      '--retention DURATION',
      '--max-size SIZE',
      '--max-request-size SIZE',
    ]) {
      assert.ok(res.stdout.includes(flag), flag);
    }
    assert.match(res.stdout, /default \.\/ig-otel-profiles-data/);
    assert.match(res.stdout, /default 127\.0\.0\.1:4317/);
    assert.match(res.stdout, /default 127\.0\.0\.1:4318/);
    assert.match(res.stdout, /Examples:/);
    assert.match((await runCli(['help'])).stdout, /serve\s+receive OTLP profiles/);
  });

  it('bad flags are usage errors naming the flag and the expected form', async () => {
    const cases: [string[], RegExp][] = [
      [['--grpc', 'localhost'], /--grpc "localhost": expected HOST:PORT/],
      [['--http', '1.2.3.4:99999'], /--http "1.2.3.4:99999": expected HOST:PORT/],
      [['--retention', 'a week'], /--retention a week: expected a duration like 24h/],
      [['--max-size', 'lots'], /--max-size lots: expected a size like 2GiB/],
      [['--max-size', '1MiB'], /--max-size 1MiB: at least 16MiB, or 0 for no cap/],
      [['--max-request-size', '10'], /--max-request-size 10: at least 1KiB/],
      [['--endpoint', 'x'], /Unknown option '--endpoint'/],
    ];
    for (const [args, message] of cases) {
      const res = await runCli(['serve', ...args]);
      assert.equal(res.code, 2, args.join(' '));
      assert.match(res.stderr, message);
      assert.match(res.stderr, /see: ig-otel-profiles serve --help/);
    }
  });

  it('listen addresses: HOST:PORT and [IPv6]:PORT; only loopback counts as private', () => {
    assert.deepEqual(parseListenAddress('127.0.0.1:4318', '--http'), { host: '127.0.0.1', port: 4318 });
    assert.deepEqual(parseListenAddress('[::1]:0', '--http'), { host: '::1', port: 0 });
    assert.deepEqual(parseListenAddress(':4317', '--grpc'), { host: '0.0.0.0', port: 4317 });
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1'])
      assert.ok(isLoopback(host), host);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.ok(!isLoopback(host), host);
  });

  it('a taken --http port: exit 1 naming the flag, and the data directory is released', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    const dataDir = newDataDir();
    try {
      const res = await runCli([
        'serve',
        '--data',
        dataDir,
        '--grpc',
        '127.0.0.1:0',
        '--http',
        `127.0.0.1:${port}`,
      ]);
      assert.equal(res.code, 1);
      assert.match(
        res.stderr,
        new RegExp(
          `--http 127\\.0\\.0\\.1:${port}: cannot listen .*EADDRINUSE.*pick another address with --http`,
        ),
      );
      const serve = await startTestServe({ dataDir });
      await serve.app.close();
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('SIGTERM: stops accepting, closes the store, exits 0; the data is there on the next start', async () => {
    const dataDir = newDataDir();
    try {
      const serve = await spawnServe(dataDir, ['--retention', '0', '--max-size', '2GiB']);
      const reply = await postOtlp(serve.httpUrl, encodeExportRequest(storableSinkRequest()));
      assert.equal(reply.status, 200);
      serve.child.kill('SIGTERM');
      assert.equal(await serve.exited, 0, serve.output());
      assert.match(serve.output(), /stopped; the store is closed/);
      const again = await spawnServe(dataDir);
      try {
        assert.equal(await storedTotal(again.httpUrl, '?type=samples/count'), CPU_EXPECTED.total);
      } finally {
        again.child.kill('SIGINT');
        assert.equal(await again.exited, 0);
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
