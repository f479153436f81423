import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { runCli } from '../support/cli-harness.js';
import { startGrpcOtlpServer, startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH, exampleEmissions } from '../support/profiles-fixtures.js';
import { getInteger } from '../../src/rows/gadget-row.js';

const inputTotal = exampleEmissions(BUNDLED_CAPTURE_PATH)
  .flat()
  .reduce((a, r) => a + getInteger(r, 'samples')!, 0n);

/** Longer than Node's 2^31−1 ms setTimeout limit (which would turn it into 1 ms). */
const SIX_HUNDRED_HOURS = '600h';

describe('durations past 2^31−1 ms', () => {
  for (const protocol of ['http/protobuf', 'grpc'] as const) {
    it(`--timeout ${SIX_HUNDRED_HOURS} over ${protocol} waits for a slow backend instead of timing out at once`, async () => {
      const server = await (protocol === 'grpc' ? startGrpcOtlpServer : startHttpOtlpServer)({
        defaultResponse: { delayMs: 100 },
      });
      try {
        const res = await runCli([
          'export',
          '--input',
          BUNDLED_CAPTURE_PATH,
          '--endpoint',
          protocol === 'grpc' ? `http://${server.endpoint}` : server.endpoint,
          '--protocol',
          protocol,
          '--timeout',
          SIX_HUNDRED_HOURS,
          '--shutdown-timeout',
          SIX_HUNDRED_HOURS,
        ]);
        assert.equal(res.code, 0, res.stderr);
        assert.doesNotMatch(res.stderr, /within \d+ ms|dropped/);
        const requests = server.requests.map((r) => decodeExportRequest(r.body));
        assert.equal(totalSampleValue(requests), inputTotal);
      } finally {
        await server.close();
      }
    });
  }

  it('a duration above the supported maximum is refused at start-up (exit 2) naming the maximum', async () => {
    const cases: { argv: string[]; env?: Record<string, string>; names: RegExp }[] = [
      { argv: ['--timeout', '1000000h'], names: /--timeout/ },
      { argv: ['--shutdown-timeout', '1000000h'], names: /--shutdown-timeout/ },
      {
        argv: ['--set', 'operator.otel-profiles.exporters.default.retry.max_interval=999999999999999'],
        names: /retry\.max_interval/,
      },
      {
        argv: [],
        env: { OTEL_EXPORTER_OTLP_TIMEOUT: '99999999999999999999' },
        names: /OTEL_EXPORTER_OTLP_TIMEOUT=99999999999999999999/,
      },
    ];
    for (const c of cases) {
      const res = await runCli(
        ['export', '--input', BUNDLED_CAPTURE_PATH, '--endpoint', 'http://127.0.0.1:9', ...c.argv],
        { env: c.env ?? {} },
      );
      assert.equal(res.code, 2, `${c.argv.join(' ')}: ${res.stderr}`);
      assert.match(res.stderr, c.names);
      assert.match(res.stderr, /longest supported duration, 876000h/);
    }
  });
});
