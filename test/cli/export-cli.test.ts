import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { assertConforms } from '../../src/profiles/validation/conformance-validator.js';
import { runCli, tempDir } from '../support/cli-harness.js';
import { startGrpcOtlpServer, startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH, exampleEmissions } from '../support/profiles-fixtures.js';
import { getInteger } from '../../src/rows/gadget-row.js';

const inputTotal = exampleEmissions(BUNDLED_CAPTURE_PATH)
  .flat()
  .reduce((a, r) => a + getInteger(r, 'samples')!, 0n);

/** Fast retries so outage tests take milliseconds. */
const FAST_RETRY = ['initial_interval=20ms', 'max_interval=50ms', 'max_elapsed_time=5s'];

describe('export: IG JSON to a real OTLP endpoint', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('OTLP/HTTP protobuf: every sample arrives, gzip-compressed, conforming, attributed', async () => {
    const server = await startHttpOtlpServer();
    try {
      const res = await runCli([
        'export',
        '--input',
        BUNDLED_CAPTURE_PATH,
        '--endpoint',
        server.endpoint,
        '--protocol',
        'http/protobuf',
      ]);
      assert.equal(res.code, 0, res.stderr);
      assert.ok(server.requests.length >= 1);
      const requests = server.requests.map((r) => decodeExportRequest(r.body));
      for (const r of requests) assertConforms(r);
      assert.equal(totalSampleValue(requests), inputTotal, 'total sample value out equals in');
      assert.ok(
        server.requests.every(
          (r) => r.contentEncoding === 'gzip' && r.contentType === 'application/x-protobuf',
        ),
      );
      const services = requests.flatMap((r) =>
        r.resourceProfiles.map((rp) => rp.resource?.attributes.find((a) => a.key === 'service.name')?.value),
      );
      assert.ok(services.every((v) => v && 'stringValue' in v && v.stringValue !== 'unknown_service'));
      assert.match(res.stderr, /delivered \d+ request\(s\)/);
    } finally {
      await server.close();
    }
  });

  it('OTLP/gRPC from the environment alone, retrying UNAVAILABLE until the backend answers', async () => {
    const server = await startGrpcOtlpServer({ script: [{ grpcStatus: 14 }, { grpcStatus: 14 }] });
    try {
      const res = await runCli(
        [
          'export',
          '--input',
          BUNDLED_CAPTURE_PATH,
          ...FAST_RETRY.flatMap((kv) => ['--set', `operator.otel-profiles.exporters.default.retry.${kv}`]),
        ],
        {
          env: {
            OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
            OTEL_EXPORTER_OTLP_ENDPOINT: `http://${server.endpoint}`,
          },
        },
      );
      assert.equal(res.code, 0, res.stderr);
      assert.equal(server.requests.length, 3, 'two UNAVAILABLE, then delivered once');
      assert.equal(totalSampleValue([decodeExportRequest(server.requests[2]!.body)]), inputTotal);
    } finally {
      await server.close();
    }
  });

  it('a permanent rejection is dropped, counted and reported, and the exit code says so', async () => {
    const server = await startHttpOtlpServer({ defaultResponse: { httpStatus: 400, body: 'bad profile' } });
    try {
      const res = await runCli([
        'export',
        '--input',
        BUNDLED_CAPTURE_PATH,
        '--endpoint',
        server.endpoint,
        '--report-json',
        join(dir.path, 'r.json'),
      ]);
      assert.equal(res.code, 3);
      assert.match(res.stderr, /dropped \(permanent_error\)/);
      const report = JSON.parse(readFileSync(join(dir.path, 'r.json'), 'utf8')) as {
        exporters: Record<string, { dropped: Record<string, { requests: number }> }>;
      };
      assert.ok((report.exporters.default?.dropped.permanent_error?.requests ?? 0) >= 1);
      assert.equal(
        server.requests.length,
        report.exporters.default?.dropped.permanent_error?.requests,
        '400 is never retried',
      );
    } finally {
      await server.close();
    }
  });

  it('a malformed line is reported with its line number, skipped and counted; --strict fails the run', async () => {
    const lines = readFileSync(BUNDLED_CAPTURE_PATH, 'utf8').split('\n');
    lines.splice(2, 0, '[{"samples": 3, "kern_stack": "oops"');
    const path = join(dir.path, 'broken.jsonl');
    writeFileSync(path, lines.join('\n'));
    const server = await startHttpOtlpServer();
    try {
      const lenient = await runCli(['export', '--input', path, '--endpoint', server.endpoint]);
      assert.equal(lenient.code, 3, 'finished, but something was skipped');
      assert.match(lenient.stderr, /broken\.jsonl:3 \(byte \d+\)/);
      assert.match(lenient.stderr, /1 malformed value\(s\) skipped/);
      assert.equal(
        totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body))),
        inputTotal,
        'the good lines all arrive',
      );
      const strict = await runCli(['export', '--strict', '--input', path, '--endpoint', server.endpoint]);
      assert.equal(strict.code, 1);
      assert.match(strict.stderr, /broken\.jsonl:3/);
    } finally {
      await server.close();
    }
  });

  it('wrong configuration is a usage error naming the key and the fix', async () => {
    const res = await runCli([
      'export',
      '--input',
      BUNDLED_CAPTURE_PATH,
      '--set',
      'operator.otel-profiles.exporters.default.exporter=otlp-carrier-pigeon',
    ]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /operator\.otel-profiles\.exporters\.default\.exporter/);
    assert.match(res.stderr, /otlp-grpc/);
    const missing = await runCli(['export', '--input', join(dir.path, 'nope.jsonl')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /no such file/);
  });

  it('reads stdin and writes OTLP files with the Collector file exporter framing', async () => {
    const out = join(dir.path, 'out.jsonl');
    const res = await runCli(
      [
        'export',
        '--set',
        'operator.otel-profiles.exporters.f.exporter=file',
        '--set',
        `operator.otel-profiles.exporters.f.path=${out}`,
        '--otel-profiles-exporter',
        'f',
      ],
      { stdin: readFileSync(BUNDLED_CAPTURE_PATH, 'utf8') },
    );
    assert.equal(res.code, 0, res.stderr);
    const validate = await runCli(['validate', out]);
    assert.equal(validate.code, 0, validate.stdout);
    assert.match(validate.stdout, /all conform/);
  });
});
