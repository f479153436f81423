import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileExporter, runCli, tempDir } from '../support/cli-harness.js';
import { BUNDLED_CAPTURE_PATH } from '../support/profiles-fixtures.js';

/** The end-of-run summary starts with this line: its absence shows the run never started. */
const SUMMARY = /^input: /m;

/** Exit 2, the usage hint, no run, and the message matching every pattern. */
function assertUsageError(res: { code: number; stderr: string }, ...patterns: RegExp[]): void {
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, /\(see: ig-otel-profiles \w+ --help\)/);
  assert.doesNotMatch(res.stderr, SUMMARY, 'refused before the run');
  for (const re of patterns) assert.match(res.stderr, re);
}

describe('configuration mistakes are usage errors (exit 2), found before anything runs', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const exportWith = (...flags: string[]) =>
    runCli(['export', '--input', BUNDLED_CAPTURE_PATH, '--shutdown-timeout', '1s', ...flags]);

  it('credentials in an otlp-http endpoint: use a header instead, the password never printed', async () => {
    const res = await exportWith('--endpoint', 'http://scott:tiger-pw@127.0.0.1:4318');
    assertUsageError(res, /--endpoint/, /credentials/, /--header "authorization=Basic/);
    assert.doesNotMatch(res.stderr, /tiger-pw/);
  });

  it('header names and values HTTP or gRPC do not allow, never printing the value', async () => {
    const http = await exportWith('--header', 'x-token=SECRET\u0001VALUE', '--header', 'bad name=v');
    assertUsageError(http, /header "x-token": its value holds a control character/, /"bad name"/);
    assert.doesNotMatch(http.stderr, /SECRET|VALUE/);
    const grpc = await exportWith('--protocol', 'grpc', '--header', 'x-token=sécret-VALUE');
    assertUsageError(grpc, /header "x-token": its value is not valid gRPC metadata/);
    assert.doesNotMatch(grpc.stderr, /VALUE/);
  });

  it("--endpoint '' and port 0 are refused instead of silently used", async () => {
    assertUsageError(await exportWith('--endpoint', ''), /--endpoint .*the endpoint is empty/);
    assertUsageError(await exportWith('--endpoint', 'http://127.0.0.1:0'), /port 0 is not a port/);
    assertUsageError(
      await exportWith('--protocol', 'grpc', '--endpoint', '127.0.0.1:0'),
      /port 0 is not a port/,
    );
  });

  it('--gadget with an unknown gadget names the known ones and how to describe another with --annotate', async () => {
    const res = await exportWith('--gadget', 'nope');
    assertUsageError(
      res,
      /--gadget nope/,
      /profile_cpu, profile_cuda/,
      /--annotate samples:profiles\.stack-fields=/,
    );
    // Image references of a known gadget are recognised; an unknown gadget described by annotations is fine.
    const toFile = fileExporter('f', join(dir.path, 'known.jsonl'));
    const image = await exportWith(
      '--gadget',
      'ghcr.io/inspektor-gadget/gadget/profile_cpu:v0.40.0',
      ...toFile,
    );
    assert.equal(image.code, 0, image.stderr);
    const described = await exportWith(
      '--gadget',
      'my_profiler',
      '--annotate',
      'samples:profiles.stack-fields=kern_stack',
      '--annotate',
      'samples:profiles.value-field=samples',
      ...toFile,
    );
    assert.equal(described.code, 0, described.stderr);
  });

  it('--report-json to a path that cannot be written is refused at start, naming the path and why', async () => {
    assertUsageError(
      await exportWith('--report-json', join(dir.path, 'no-such-dir', 'report.json')),
      /--report-json .*no-such-dir.*no such directory/,
    );
    assertUsageError(await exportWith('--report-json', dir.path), /--report-json .* is a directory/);
    // A pseudo file system where files cannot be created (found only by trying: root may write anywhere else).
    assertUsageError(
      await exportWith('--report-json', '/proc/igop-report.json'),
      /--report-json \/proc\/igop-report\.json: cannot be written/,
    );
  });

  it('a queue.directory that cannot hold the queue fails start-up at once (exit 2) instead of hanging', async () => {
    const res = await exportWith(
      '--set',
      'operator.otel-profiles.exporters.default.queue.directory=/proc/igop-queue',
    );
    assertUsageError(res, /\/proc\/igop-queue \(queue\.directory\) cannot be used: .*pseudo file system/);
  });

  it('run: --otlp-timeout and --remote-address are checked before connecting, naming the flag as typed', async () => {
    const unreachable = `unix://${join(dir.path, 'no-daemon.sock')}`;
    const timeout = await runCli([
      'run',
      'profile_cpu',
      '--remote-address',
      unreachable,
      '--otlp-timeout',
      'abc',
    ]);
    assertUsageError(timeout, /--otlp-timeout: "abc" is not a duration/);
    assert.doesNotMatch(timeout.stderr, /--timeout:/);
    const address = await runCli(['run', 'profile_cpu', '--remote-address', 'http://127.0.0.1:8080']);
    assertUsageError(
      address,
      /--remote-address "http:\/\/127\.0\.0\.1:8080": expected unix:\/\/\/.* or tcp:\/\/HOST:PORT/,
    );
    const attach = await runCli(['attach', 'cpu', '--remote-address', 'http://127.0.0.1:8080']);
    assertUsageError(attach, /--remote-address/);
    const shutdown = await runCli([
      'run',
      'profile_cpu',
      '--remote-address',
      unreachable,
      '--shutdown-timeout',
      'later',
    ]);
    assertUsageError(shutdown, /--shutdown-timeout/);
  });
});
