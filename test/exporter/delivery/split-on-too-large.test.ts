import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExportProfilesServiceRequest } from '../../../src/profiles/model/otlp-model.js';
import { decodeExportRequest } from '../../../src/profiles/encoding/decode-request.js';
import { runCli, tempDir } from '../../support/cli-harness.js';
import { exportWithReport, reportCounter } from '../../support/export-report.js';
import type { ExportBatch } from '../../../src/exporter/export-batch.js';
import { MAX_SPLIT_DEPTH, SplitOnTooLarge } from '../../../src/exporter/delivery/split-on-too-large.js';
import { fakeBatch, splitInTwo } from '../../support/delivery-fakes.js';
import type { OtlpTestServer, RecordedRequest } from '../../support/otlp-test-servers.js';
import { startGrpcOtlpServer, startHttpOtlpServer } from '../../support/otlp-test-servers.js';
import { BUNDLED_CAPTURE_PATH } from '../../support/profiles-fixtures.js';

/**
 * A backend that refuses large requests with 413: every sample either reaches it or is counted as
 * dropped (too_large), stack by stack, and the exit status says which.
 */

interface StackTotal {
  value: bigint;
  records: number;
}

/** Sample values and sample records per (resource, stack, sample attributes), over accepted requests. */
function totalsByStack(requests: readonly ExportProfilesServiceRequest[]): Map<string, StackTotal> {
  const out = new Map<string, StackTotal>();
  for (const r of requests) {
    const d = r.dictionary;
    const str = (i: number): string => d.stringTable[i] ?? `?${i}`;
    for (const rp of r.resourceProfiles) {
      const resource = JSON.stringify(
        [...(rp.resource?.attributes ?? [])].sort((a, b) => a.key.localeCompare(b.key)),
        (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      );
      for (const sp of rp.scopeProfiles)
        for (const p of sp.profiles)
          for (const s of p.samples) {
            const frames = (d.stackTable[s.stackIndex]?.locationIndices ?? []).map((li) =>
              (d.locationTable[li]?.lines ?? [])
                .map((l) => str(d.functionTable[l.functionIndex]?.nameStrindex ?? 0))
                .join('+'),
            );
            const attrs = s.attributeIndices.map((ai) => {
              const a = d.attributeTable[ai];
              return `${str(a?.keyStrindex ?? 0)}=${JSON.stringify(a?.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`;
            });
            const key = `${resource}|${str(p.sampleType?.typeStrindex ?? 0)}|${frames.join(';')}|${attrs.sort().join(',')}`;
            const t = out.get(key) ?? { value: 0n, records: 0 };
            for (const v of s.values) t.value += v;
            t.records += 1;
            out.set(key, t);
          }
    }
  }
  return out;
}

/** The stacks whose totals differ (compact, unlike a deepEqual of two large maps). */
function differences(got: Map<string, StackTotal>, want: Map<string, StackTotal>): string[] {
  const out: string[] = [];
  for (const key of new Set([...got.keys(), ...want.keys()])) {
    const g = got.get(key);
    const w = want.get(key);
    if (g?.value !== w?.value || g?.records !== w?.records)
      out.push(
        `${key.slice(-120)}: got ${g?.value ?? 0n}/${g?.records ?? 0}, want ${w?.value ?? 0n}/${w?.records ?? 0}`,
      );
  }
  return out;
}

function accepted(server: OtlpTestServer): ExportProfilesServiceRequest[] {
  return server.requests
    .filter(
      (r: RecordedRequest) => (r.response.httpStatus ?? 200) < 300 && r.response.grpcStatus === undefined,
    )
    .map((r) => decodeExportRequest(r.body));
}

describe('a backend answering 413 to large requests', () => {
  const dir = tempDir();
  let reference: Map<string, StackTotal>;
  let run = 0;
  /** Sizes of the one-stack requests the backend refused when it refused everything. */
  let loneSizes: number[] = [];

  async function exportTo(maxRequestBytes: number | undefined) {
    const server = await startHttpOtlpServer(maxRequestBytes !== undefined ? { maxRequestBytes } : {});
    const reportPath = join(dir.path, `report-${++run}.json`);
    try {
      const { res, report } = await exportWithReport(server.endpoint, reportPath);
      return { res, report, server, byStack: totalsByStack(accepted(server)) };
    } finally {
      await server.close();
    }
  }

  before(async () => {
    const { res, byStack } = await exportTo(undefined);
    assert.equal(res.code, 0, res.stderr);
    reference = byStack;
    assert.ok(reference.size > 20, 'the capture has many stacks');
  });
  after(() => dir.cleanup());

  it('over 3,000 bytes: every stack arrives with its exact value, nothing dropped, exit 0', async () => {
    const { res, report, server, byStack } = await exportTo(3_000);
    assert.equal(res.code, 0, res.stderr);
    assert.ok(
      server.requests.some((r) => r.response.httpStatus === 413),
      'the backend did refuse requests',
    );
    assert.deepEqual(differences(byStack, reference), [], 'each stack: same value, same records');
    assert.ok(reportCounter(report, 'requests_split') > 0);
    assert.equal(reportCounter(report, 'samples_dropped'), 0);
    assert.deepEqual(report.exporters.default?.dropped, {});
    assert.equal(reportCounter(report, 'samples_sent'), reportCounter(report, 'samples_generated'));
    assert.doesNotMatch(res.stderr, /dropped \(/);
  });

  it('learns the limit: once refused, later requests are cut before sending and never refused at the same size', async () => {
    const { server } = await exportTo(3_000);
    const refused = server.requests.filter((r) => r.response.httpStatus === 413).map((r) => r.body.length);
    const sent = server.requests.map((r) => r.body.length);
    // Never a request at least as large as one already refused, but for a lone stack.
    for (let i = 0; i < sent.length; i++) {
      const request = decodeExportRequest(server.requests[i]!.body);
      if (totalsByStack([request]).size === 1) continue;
      const smallestRefusedBefore = Math.min(
        ...server.requests
          .slice(0, i)
          .filter((r) => r.response.httpStatus === 413)
          .map((r) => r.body.length),
      );
      assert.ok(
        (sent[i] as number) < smallestRefusedBefore,
        `request ${i} (${sent[i]} bytes) repeats a size already refused (${smallestRefusedBefore})`,
      );
    }
    assert.ok(refused.length > 0);
  });

  it('refusing everything: every sample is counted too_large, none disappears, exit 3', async () => {
    const { res, report, byStack, server } = await exportTo(0);
    loneSizes = server.requests
      .filter((r) => totalsByStack([decodeExportRequest(r.body)]).size === 1)
      .map((r) => r.body.length)
      .sort((x, y) => x - y);
    assert.equal(res.code, 3, res.stderr);
    assert.equal(byStack.size, 0);
    const generated = reportCounter(report, 'samples_generated');
    let records = 0;
    for (const t of reference.values()) records += t.records;
    assert.equal(generated, records);
    assert.equal(report.exporters.default?.dropped.too_large?.samples, generated);
    assert.equal(reportCounter(report, 'samples_dropped', { reason: 'too_large' }), generated);
    assert.match(res.stderr, /dropped \(too_large\)/);
    // One error explains it; the rest are only counted (debug), not one error line per stack.
    assert.equal(res.stderr.split('\n').filter((l) => / ERROR .*refused .* as too large/.test(l)).length, 1);
  });

  it('with a limit some lone stacks exceed: what fits arrives exactly, the rest is counted too_large, exit 3', async () => {
    assert.ok(loneSizes.length > 2, 'the refuse-everything case ran first');
    // Half of the lone stacks fit, half do not.
    const { res, report, byStack } = await exportTo(loneSizes[Math.floor(loneSizes.length / 2)]);
    assert.equal(res.code, 3, res.stderr);
    let missingRecords = 0;
    for (const [key, want] of reference) {
      const got = byStack.get(key);
      if (got === undefined) missingRecords += want.records;
      else assert.deepEqual(got, want, `stack ${key}`);
    }
    assert.ok(missingRecords > 0, 'some lone stacks are over the limit');
    assert.ok(byStack.size > 0, 'and some fit');
    const dropped = report.exporters.default?.dropped.too_large;
    assert.equal(dropped?.samples, missingRecords);
    assert.equal(reportCounter(report, 'samples_dropped', { reason: 'too_large' }), missingRecords);
    assert.equal(
      reportCounter(report, 'samples_sent') + reportCounter(report, 'samples_dropped'),
      reportCounter(report, 'samples_generated'),
    );
    assert.match(
      res.stderr,
      new RegExp(
        `dropped \\(too_large\\): ${dropped?.requests} request\\(s\\), \\d+ profile\\(s\\), ${missingRecords} sample\\(s\\)`,
      ),
    );
    assert.equal(report.exitCode, 3);
  });
});

describe('a gRPC backend refusing large messages (RESOURCE_EXHAUSTED, message larger than max)', () => {
  it('over 3,000 bytes: the same samples arrive as without a limit, nothing dropped, exit 0', async () => {
    const outcomes: Map<string, StackTotal>[] = [];
    for (const maxRequestBytes of [undefined, 3_000]) {
      const server = await startGrpcOtlpServer(maxRequestBytes !== undefined ? { maxRequestBytes } : {});
      try {
        const res = await runCli(['export', '--input', BUNDLED_CAPTURE_PATH, '--endpoint', server.endpoint], {
          env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_INSECURE: 'true' },
        });
        assert.equal(res.code, 0, res.stderr);
        if (maxRequestBytes !== undefined)
          assert.ok(
            server.requests.some((r) => r.response.grpcStatus === 8),
            'the backend did refuse messages',
          );
        outcomes.push(totalsByStack(accepted(server)));
      } finally {
        await server.close();
      }
    }
    assert.deepEqual(differences(outcomes[1]!, outcomes[0]!), []);
  });
});

describe('SplitOnTooLarge', () => {
  const cutAt: number[] = [];
  const recordingSplit = (batch: ExportBatch, maxBytes: number): ExportBatch[] => {
    cutAt.push(maxBytes);
    return batch.samples > 1 ? splitInTwo(batch) : [batch];
  };

  it('sends as is until a refusal; then cuts what is at least that large before sending, to just under it', () => {
    cutAt.length = 0;
    const policy = new SplitOnTooLarge(recordingSplit);
    const big = fakeBatch('big', { size: 400, samples: 8 });
    assert.deepEqual(policy.beforeSend(big, 0), [big]);
    const verdict = policy.onRefused(big, 0);
    assert.equal(verdict.kind, 'split');
    assert.deepEqual(cutAt, [200], 'halving');
    assert.equal(policy.refusedBytes, 400);
    const smaller = fakeBatch('smaller', { size: 399, samples: 8 });
    assert.deepEqual(policy.beforeSend(smaller, 0), [smaller]);
    const same = fakeBatch('same', { size: 400, samples: 8 });
    assert.deepEqual(
      policy.beforeSend(same, 0).map((b) => b.id),
      ['same.a', 'same.b'],
    );
    assert.deepEqual(cutAt, [200, 399]);
    assert.deepEqual(policy.beforeSend(same, MAX_SPLIT_DEPTH), [same], 'never cut beyond the depth bound');
  });

  it('a lone sample over the learned limit is still sent (the backend decides); accepted, the guess is forgotten', () => {
    const policy = new SplitOnTooLarge(recordingSplit);
    policy.onRefused(fakeBatch('big', { size: 400, samples: 8 }), 0);
    const lone = fakeBatch('lone', { size: 500, samples: 1 });
    assert.deepEqual(policy.beforeSend(lone, 0), [lone]);
    policy.onAccepted(lone);
    assert.equal(policy.refusedBytes, undefined);
    const next = fakeBatch('next', { size: 450, samples: 8 });
    assert.deepEqual(policy.beforeSend(next, 0), [next]);
  });

  it('drops, saying why, what cannot be cut, what was cut too often, and what the splitter fails on', () => {
    const policy = new SplitOnTooLarge(recordingSplit);
    const lone = policy.onRefused(fakeBatch('lone', { size: 500, samples: 1 }), 0);
    assert.equal(lone.kind === 'drop' && lone.why, 'it holds a single stack sample and cannot be cut');
    const deep = policy.onRefused(fakeBatch('deep', { size: 500, samples: 8 }), MAX_SPLIT_DEPTH);
    assert.match(deep.kind === 'drop' ? deep.why : '', /already cut 16 times/);
    const failing = new SplitOnTooLarge(() => {
      throw new Error('undecodable');
    }).onRefused(fakeBatch('x', { size: 500 }), 0);
    assert.match(failing.kind === 'drop' ? failing.why : '', /cutting it failed: undecodable/);
  });

  it('a splitter failing before a send leaves the batch to the backend', () => {
    let calls = 0;
    const policy = new SplitOnTooLarge((batch) => {
      if (++calls > 1) throw new Error('undecodable');
      return splitInTwo(batch);
    });
    policy.onRefused(fakeBatch('big', { size: 400 }), 0);
    const next = fakeBatch('next', { size: 500 });
    assert.deepEqual(policy.beforeSend(next, 0), [next]);
  });
});
