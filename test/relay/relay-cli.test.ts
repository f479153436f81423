import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { toOtlpJson } from '../../src/profiles/encoding/otlp-json.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { validateRequest } from '../../src/profiles/validation/conformance-validator.js';
import { runCli, spawnCli, tempDir } from '../support/cli-harness.js';
import type { ExportReport } from '../support/export-report.js';
import { reportCounter } from '../support/export-report.js';
import type { IgRow } from '../support/ig-otlp-wire.js';
import { igRequest } from '../support/ig-otlp-wire.js';
import { OTLP_PROFILES_GRPC_PATH, startGrpcOtlpServer } from '../support/otlp-test-servers.js';
import { completeRequest } from '../support/encoding-fixtures.js';
import { encodeExportRequest } from '../../src/profiles/encoding/encode-request.js';
import { countRequest } from '../../src/profiles/model/otlp-model.js';
import * as grpc from '@grpc/grpc-js';

/**
 * relay fed what IG's otel-profiles operator sends (both Sample layouts, built by an independent wire
 * writer) delivers the same profiles the JSON path makes of the same rows: conformant, stacks merged,
 * timed, attributed per process/container; bad requests are refused precisely and counted.
 */

const ATTRS = (comm: string, container: string, pid: number) => ({
  'proc.comm': comm,
  'runtime.containerName': container,
  'proc.pid': pid,
  'k8s.namespace': 'shop',
  'k8s.podName': `${container}-pod`,
});

const ROWS: readonly IgRow[] = [
  {
    stacks: ['[0]chacha_permute; [1]get_random_bytes_user; ', '0x4011a0; main; '],
    value: 3,
    attributes: ATTRS('app', 'web', 4242),
  },
  { stacks: ['', 'work; main; '], value: 5, attributes: ATTRS('app', 'web', 4242) },
  { stacks: ['', 'work; main; '], value: 7, attributes: ATTRS('app', 'web', 4242) },
  { stacks: ['do_idle; cpu_startup_entry; ', ''], value: 11, attributes: ATTRS('db', 'pg', 77) },
];

/** The same rows as IG's `-o json` prints them. */
function jsonLine(rows: readonly IgRow[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      k8s: { namespace: r.attributes['k8s.namespace'], podName: r.attributes['k8s.podName'] },
      kern_stack: r.stacks[0],
      proc: { comm: r.attributes['proc.comm'], pid: r.attributes['proc.pid'] },
      runtime: { containerName: r.attributes['runtime.containerName'] },
      samples: r.value,
      user_stack_raw: { symbols: r.stacks[1] },
    })),
  );
}

/** Sample values by (frames, resource attributes), over every delivered request. */
function valuesByStack(requests: readonly ExportProfilesServiceRequest[]): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const req of requests) {
    const d = req.dictionary;
    for (const rp of req.resourceProfiles) {
      const resource = rp.resource?.attributes
        .filter((kv) => ['process.pid', 'container.name', 'k8s.pod.name'].includes(kv.key))
        .map(
          (kv) =>
            `${kv.key}=${JSON.stringify(kv.value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}`,
        )
        .sort()
        .join(',');
      for (const sp of rp.scopeProfiles)
        for (const p of sp.profiles)
          for (const s of p.samples) {
            const frames = d.stackTable[s.stackIndex]!.locationIndices.map((li) => {
              const loc = d.locationTable[li]!;
              const fn = d.functionTable[loc.lines[0]?.functionIndex ?? 0]!;
              return `${d.stringTable[fn.nameStrindex]}@${loc.address.toString(16)}`;
            });
            const k = `${frames.join(';')}|${resource}`;
            out.set(k, (out.get(k) ?? 0n) + s.values.reduce((a, v) => a + v, 0n));
          }
    }
  }
  return out;
}

async function startRelay(args: readonly string[]) {
  const child = spawnCli(['relay', '--grpc', '127.0.0.1:0', '--http', '127.0.0.1:0', ...args]);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = /OTLP\/gRPC (\S+), OTLP\/HTTP (http:\/\/\S+)/.exec(stderr);
    if (m) return { child, grpc: m[1]!, http: `${m[2]}/v1development/profiles`, stderr: () => stderr };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`relay did not start:\n${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const post = (url: string, body: Uint8Array, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf', ...headers } });

/** One unary Export over OTLP/gRPC with the message bytes as given (IG's transport). */
function grpcExport(address: string, body: Uint8Array): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const identity = (b: Buffer): Buffer => b;
  return new Promise((resolve) =>
    client.makeUnaryRequest(OTLP_PROFILES_GRPC_PATH, identity, identity, Buffer.from(body), (err) => {
      client.close();
      resolve(err);
    }),
  );
}

/** Whether a delivered request carries the IG rows, not the forwarded foreign request (whose mapping names a file). */
const fromIgRows = (r: ExportProfilesServiceRequest): boolean =>
  !r.dictionary.stringTable.includes('/usr/bin/app');

const sumValues = (requests: readonly ExportProfilesServiceRequest[]): bigint =>
  requests
    .flatMap((r) => r.resourceProfiles.flatMap((rp) => rp.scopeProfiles.flatMap((sp) => sp.profiles)))
    .flatMap((p) => p.samples)
    .reduce((a, s) => a + s.values.reduce((x, v) => x + v, 0n), 0n);

describe('relay', () => {
  const dir = tempDir();
  after(() => dir.cleanup());

  it('refuses a bad flag with exit 2 and a taken port with exit 1, naming the flag', async () => {
    const out = ['--endpoint', 'http://127.0.0.1:9', '--protocol', 'grpc', '--insecure'];
    const layout = await runCli(['relay', '--sample-layout', 'v2', ...out]);
    assert.equal(layout.code, 2);
    assert.match(layout.stderr, /--sample-layout v2: expected auto, v1\.9, v1\.10/);
    const taken = await startGrpcOtlpServer();
    after(() => taken.stop());
    const busy = await runCli([
      'relay',
      '--grpc',
      `127.0.0.1:${taken.port}`,
      '--http',
      '127.0.0.1:0',
      ...out,
    ]);
    assert.equal(busy.code, 1, busy.stderr);
    assert.match(busy.stderr, new RegExp(`--grpc 127\\.0\\.0\\.1:${taken.port}: cannot listen`));
  });

  it('delivers IG operator requests (v1.9 and v1.10) like the JSON path, refuses bad ones by count', async () => {
    const viaRelay = await startGrpcOtlpServer();
    const viaJson = await startGrpcOtlpServer();
    after(() => Promise.all([viaRelay.stop(), viaJson.stop()]));
    const report = join(dir.path, 'relay.json');
    const target = ['--endpoint', `http://${viaRelay.endpoint}`, '--protocol', 'grpc', '--insecure'];
    const relay = await startRelay([...target, '--report-json', report]);

    // IG's operator speaks OTLP/gRPC in the v1.9 layout.
    assert.equal(await grpcExport(relay.grpc, igRequest(ROWS.slice(0, 2), { layout: 'v1.9' })), null);
    const v110 = await post(relay.http, gzipSync(igRequest(ROWS.slice(2, 3), { layout: 'v1.10' })), {
      'content-encoding': 'gzip',
    });
    assert.equal(v110.status, 200);
    // OTLP/JSON names its fields: no layout question (the JSON text is written from the decoded v1.10 request).
    const asJson = toOtlpJson(decodeExportRequest(igRequest(ROWS.slice(3), { layout: 'v1.10' })));
    const jsonPost = await post(relay.http, Buffer.from(asJson), { 'content-type': 'application/json' });
    assert.equal(jsonPost.status, 200, await jsonPost.text());

    const garbage = await post(relay.http, Uint8Array.from([0x0a, 0x05, 0x01]));
    assert.equal(garbage.status, 400);
    const truncated = igRequest(ROWS, { layout: 'v1.9' });
    const cut = await post(relay.http, truncated.subarray(0, truncated.length - 7));
    assert.equal(cut.status, 400);
    assert.match(Buffer.from(await cut.arrayBuffer()).toString('latin1'), /truncated|past the end/);

    const badGzip = await post(relay.http, Uint8Array.from([1, 2, 3]), { 'content-encoding': 'gzip' });
    assert.equal(badGzip.status, 400);

    const badIndex = igRequest(ROWS.slice(0, 1), { layout: 'v1.9' });
    // The last byte is the last stack's last location index: point it past the location table.
    badIndex[badIndex.length - 1] = 0x7f;
    const refused = await grpcExport(relay.grpc, badIndex);
    assert.equal(refused?.code, grpc.status.INVALID_ARGUMENT);
    assert.match(refused?.details ?? '', /stack_table\[1\]/);

    // Another OTLP sender (not IG): forwarded as it came.
    const foreign = completeRequest();
    assert.equal(await grpcExport(relay.grpc, encodeExportRequest(foreign)), null);

    relay.child.kill('SIGTERM');
    const [code] = (await once(relay.child, 'exit')) as [number];
    assert.equal(code, 3, relay.stderr()); // the refused requests are losses
    assert.match(relay.stderr(), /requests refused \(invalid_request\): 4/);
    const reportJson = JSON.parse(readFileSync(report, 'utf8')) as ExportReport;
    assert.equal(reportCounter(reportJson, 'requests_dropped', { reason: 'invalid_request' }), 4);

    const input = join(dir.path, 'rows.jsonl');
    writeFileSync(
      input,
      [ROWS.slice(0, 2), ROWS.slice(2, 3), ROWS.slice(3)].map((rows) => `${jsonLine(rows)}\n`).join(''),
    );
    const exported = await runCli([
      'export',
      '--input',
      input,
      '--gadget',
      'profile_cpu',
      '--endpoint',
      `http://${viaJson.endpoint}`,
      '--protocol',
      'grpc',
      '--insecure',
    ]);
    assert.equal(exported.code, 0, exported.stderr);

    const delivered = viaRelay.requests.map((r) => decodeExportRequest(r.body));
    const forwarded = delivered.filter((r) => !fromIgRows(r));
    assert.equal(
      forwarded.reduce((a, r) => a + countRequest(r).samples, 0),
      countRequest(foreign).samples,
      relay.stderr(),
    );
    assert.equal(sumValues(forwarded), sumValues([foreign]));
    assert.ok(
      forwarded.some((r) => r.dictionary.stringTable.includes('/usr/bin/app')),
      'mappings kept',
    );
    const relayed = delivered.filter(fromIgRows);
    const fromJson = viaJson.requests.map((r) => decodeExportRequest(r.body));
    assert.ok(relayed.length > 0);
    for (const req of relayed) {
      assert.deepEqual(validateRequest(req), []);
      for (const rp of req.resourceProfiles) {
        const attrs = new Map(rp.resource?.attributes.map((kv) => [kv.key, kv.value]));
        assert.notDeepEqual(attrs.get('service.name'), { stringValue: 'inspektor-gadget' });
        assert.ok(attrs.has('process.pid') && attrs.has('k8s.namespace.name'), 'resource attributed');
        for (const sp of rp.scopeProfiles)
          for (const p of sp.profiles) {
            assert.ok(p.timeUnixNano > 0n && p.durationNano > 0n, 'timed');
            const identities = p.samples.map(
              (s) => `${s.stackIndex}/${[...s.attributeIndices].sort().join(',')}`,
            );
            assert.equal(new Set(identities).size, identities.length, 'stacks merged');
          }
      }
    }
    // IG's version travels on as an attribute; service.name comes from our chain (the container name here).
    for (const r of relayed) {
      const version = r.dictionary.attributeTable.find(
        (a) => r.dictionary.stringTable[a.keyStrindex] === 'inspektor_gadget.version',
      );
      assert.deepEqual(version?.value, { stringValue: 'v0.50.0' });
    }
    const relayTotals = valuesByStack(relayed);
    assert.deepEqual(relayTotals, valuesByStack(fromJson));
    assert.equal(
      [...relayTotals.values()].reduce((a, v) => a + v, 0n),
      26n,
    );
    // The two identical `work; main` rows are one sample of 12.
    assert.ok([...relayTotals.entries()].some(([k, v]) => k.startsWith('work@0;main@0|') && v === 12n));
  });
});
