import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { FieldRecord } from '../../src/rows/gadget-row.js';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { toOtlpJson } from '../../src/profiles/encoding/otlp-json.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { runCli, tempDir } from '../support/cli-harness.js';
import { completeRequest } from '../support/encoding-fixtures.js';
import { readIgExampleEmissions, stringifyJsonBigint } from '../support/ig-json.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { rowFields } from '../../src/rows/gadget-row.js';

const INT64_MAX = (1n << 63n) - 1n;
const template = readIgExampleEmissions()[0]![0]!;
/** One `-o json` line of rows made from a real profile_cpu row with some fields replaced. */
const line = (...rows: Record<string, unknown>[]): string =>
  stringifyJsonBigint(rows.map((r) => ({ ...rowFields(template), ...r }) as FieldRecord));

function sampleValues(requests: readonly ExportProfilesServiceRequest[]): bigint[] {
  return requests.flatMap((r) =>
    r.resourceProfiles.flatMap((rp) =>
      rp.scopeProfiles.flatMap((sp) => sp.profiles.flatMap((p) => p.samples.flatMap((s) => s.values))),
    ),
  );
}

describe('sample values at the edge of int64', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  // Line 1 holds a value past 2^53 that fits int64; line 2 a 2^63, a 2^64, a stack of the wrong
  // type and one good row.
  const big = (1n << 62n) + 1n;
  const input = [
    line({ samples: big }),
    line(
      { samples: 1n << 63n },
      { samples: 1n << 64n },
      { samples: 5, kern_stack: 42 },
      { samples: 7, kern_stack: 'other_function; ' },
    ),
  ].join('\n');

  it('values that fit int64 arrive exact; larger ones and wrongly typed stacks are dropped, counted, warned with their line (exit 3)', async () => {
    const server = await startHttpOtlpServer();
    try {
      const res = await runCli(['export', '--endpoint', server.endpoint], { stdin: input });
      assert.equal(res.code, 3, res.stderr);
      const requests = server.requests.map((r) => decodeExportRequest(r.body));
      assert.equal(totalSampleValue(requests), big + 7n);
      assert.ok(sampleValues(requests).includes(big), 'the value past 2^53 is exact');
      assert.ok(sampleValues(requests).every((v) => v > 0n && v <= INT64_MAX));
      assert.match(res.stderr, /stdin:2: samples = 9223372036854775808 does not fit a profile value/);
      assert.match(res.stderr, /stdin:2: kern_stack is 42, not stack text — row dropped/);
      assert.doesNotMatch(res.stderr, /18446744073709551616/, 'one warning per reason');
      assert.match(res.stderr, /value_out_of_range[^\n]*2|2[^\n]*value_out_of_range/);
      assert.match(res.stderr, /invalid_stack[^\n]*1|1[^\n]*invalid_stack/);
    } finally {
      await server.close();
    }
  });

  it('--strict stops at the first invalid row, naming it', async () => {
    const server = await startHttpOtlpServer();
    try {
      const res = await runCli(['export', '--strict', '--endpoint', server.endpoint], { stdin: input });
      assert.equal(res.code, 1, res.stderr);
      assert.match(res.stderr, /stdin:2: samples = 9223372036854775808 .*strict mode/);
    } finally {
      await server.close();
    }
  });

  it('a sum of rows past int64 continues in another sample, exact, in JSON and protobuf alike', async () => {
    const each = 4_000_000_000_000_000_000n; // three of them pass int64
    const text = line({ samples: each }, { samples: each }, { samples: each });
    const out = join(dir.path, 'sum.jsonl');
    const server = await startHttpOtlpServer();
    try {
      const viaHttp = await runCli(['export', '--endpoint', server.endpoint], { stdin: text });
      assert.equal(viaHttp.code, 0, viaHttp.stderr);
      const requests = server.requests.map((r) => decodeExportRequest(r.body));
      assert.equal(totalSampleValue(requests), 3n * each);
      assert.ok(
        sampleValues(requests).every((v) => v > 0n && v <= INT64_MAX),
        String(sampleValues(requests)),
      );
    } finally {
      await server.close();
    }
    const toFile = await runCli(
      [
        'export',
        '--set',
        'operator.otel-profiles.exporters.f.exporter=file',
        '--set',
        `operator.otel-profiles.exporters.f.path=${out}`,
        '--otel-profiles-exporter',
        'f',
      ],
      { stdin: text },
    );
    assert.equal(toFile.code, 0, toFile.stderr);
    const values = [...readFileSync(out, 'utf8').matchAll(/"values":\["(\d+)"/g)].map((m) => BigInt(m[1]!));
    assert.equal(
      values.reduce((a, b) => a + b, 0n),
      3n * each,
    );
    assert.ok(values.every((v) => v <= INT64_MAX));
  });
});

describe('validate: a sample value past int64, in JSON and in protobuf alike', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('both files fail: out of range in JSON, wrapped negative in protobuf', async () => {
    const request = completeRequest();
    const sample = request.resourceProfiles[1]!.scopeProfiles[0]!.profiles[0]!.samples[0]!;
    // What a wrapping writer made of 2^63: the protobuf bytes hold −2^63; JSON text can hold 2^63.
    sample.values = [-(1n << 63n), 1n];
    const proto = join(dir.path, 'wrapped.pb');
    const bytes = encodeExportRequest(request);
    const framed = Buffer.alloc(4 + bytes.length);
    framed.writeUInt32BE(bytes.length, 0);
    framed.set(bytes, 4);
    writeFileSync(proto, framed);
    const json = join(dir.path, 'wrapped.jsonl');
    writeFileSync(
      json,
      toOtlpJson(request).replace('"-9223372036854775808"', '"9223372036854775808"') + '\n',
    );

    const fromProto = await runCli(['validate', proto]);
    assert.equal(fromProto.code, 1, fromProto.stdout);
    assert.match(fromProto.stdout, /negative value -9223372036854775808/);
    const fromJson = await runCli(['validate', json]);
    assert.equal(fromJson.code, 1, fromJson.stdout);
    assert.match(fromJson.stdout + fromJson.stderr, /int64 9223372036854775808 out of range/);
  });
});
