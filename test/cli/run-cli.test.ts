import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { readOtlpFile } from '../../src/exporter/sinks/file-sink.js';
import { decodeExportRequest } from '../../src/profiles/encoding/decode-request.js';
import { fromOtlpJson } from '../../src/profiles/encoding/otlp-json.js';
import type { AnyValue, ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';
import { totalSampleValue } from '../../src/profiles/model/otlp-model.js';
import { assertConforms } from '../../src/profiles/validation/conformance-validator.js';
import { fileExporter, runCli, spawnCli, tempDir } from '../support/cli-harness.js';
import { watchCli } from '../support/cli-process-watch.js';
import { startIgDaemonDouble } from '../support/ig-daemon-double.js';
import { stringifyJsonBigint } from '../support/ig-json.js';
import { startHttpOtlpServer } from '../support/otlp-test-servers.js';
import { exampleEmissions } from '../support/profiles-fixtures.js';
import { IG_EXAMPLES_PATH } from '../support/fixture-paths.js';
import { getInteger, rowFields } from '../../src/rows/gadget-row.js';

/** What a profile says, independent of ids, indices and wall-clock windows. */
function profileFacts(requests: readonly ExportProfilesServiceRequest[]): string[] {
  const facts: string[] = [];
  const text = (v: AnyValue | undefined): string =>
    JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x));
  for (const r of requests) {
    const d = r.dictionary;
    for (const rp of r.resourceProfiles) {
      const resource = (rp.resource?.attributes ?? [])
        .map((a) => `${a.key}=${text(a.value)}`)
        .sort()
        .join(',');
      for (const sp of rp.scopeProfiles) {
        for (const p of sp.profiles) {
          const type = `${d.stringTable[p.sampleType?.typeStrindex ?? 0]}/${d.stringTable[p.periodType?.typeStrindex ?? 0]}/${p.period}`;
          for (const s of p.samples) {
            const stack = (d.stackTable[s.stackIndex]?.locationIndices ?? []).map((li) => {
              const loc = d.locationTable[li];
              const fn = loc?.lines[0] ? d.functionTable[loc.lines[0].functionIndex] : undefined;
              return `${fn ? d.stringTable[fn.nameStrindex] : ''}@${loc?.address}`;
            });
            const attrs = s.attributeIndices
              .map(
                (a) =>
                  `${d.stringTable[d.attributeTable[a]?.keyStrindex ?? 0]}=${text(d.attributeTable[a]?.value)}`,
              )
              .sort();
            facts.push(`${resource}|${type}|${stack.join(';')}|${attrs.join(',')}|${s.values.join(',')}`);
          }
        }
      }
    }
  }
  return facts.sort();
}

async function readJsonRequests(path: string): Promise<ExportProfilesServiceRequest[]> {
  const out: ExportProfilesServiceRequest[] = [];
  for await (const line of readOtlpFile(path, 'json')) out.push(fromOtlpJson(line));
  return out;
}

describe('run: a gadget on the IG daemon over gRPC', () => {
  const dir = tempDir();
  after(() => dir.cleanup());
  const emissions = exampleEmissions();

  it('the same rows through gRPC and through -o json give identical profiles', async () => {
    const daemon = await startIgDaemonDouble({
      script: () => emissions.map((rows) => ({ rows })),
      endAfterScript: true,
    });
    try {
      const viaGrpc = join(dir.path, 'grpc.jsonl');
      const grpc = await runCli([
        'run',
        'profile_cpu',
        '--remote-address',
        daemon.unixAddress,
        '--collect-ustack',
        '--map-fetch-interval',
        '2s',
        '-A',
        ...fileExporter('f', viaGrpc),
      ]);
      assert.equal(grpc.code, 0, grpc.stderr);
      const params = daemon.runs[0]?.request.paramValues ?? {};
      assert.equal(params['operator.oci.ebpf.collect-ustack'], 'true');
      assert.equal(params['operator.oci.ebpf.map-fetch-interval'], '2s');
      assert.equal(
        params['operator.KubeManager.all-namespaces'],
        'true',
        '-A resolved through the param alias',
      );

      const capture = join(dir.path, 'capture.jsonl');
      writeFileSync(
        capture,
        emissions.map((rows) => stringifyJsonBigint(rows.map(rowFields))).join('\n') + '\n',
      );
      const viaJson = join(dir.path, 'json.jsonl');
      const json = await runCli(['export', '--input', capture, ...fileExporter('f', viaJson)]);
      assert.equal(json.code, 0, json.stderr);

      const a = await readJsonRequests(viaGrpc);
      const b = await readJsonRequests(viaJson);
      for (const r of [...a, ...b]) assertConforms(r);
      assert.ok(profileFacts(a).length > 0);
      assert.deepEqual(profileFacts(a), profileFacts(b));
    } finally {
      await daemon.close();
    }
  });

  it('an unknown gadget flag is a usage error listing the gadget parameters', async () => {
    const daemon = await startIgDaemonDouble();
    try {
      const res = await runCli([
        'run',
        'profile_cpu',
        '--remote-address',
        daemon.unixAddress,
        '--colect-ustack',
      ]);
      assert.equal(res.code, 2);
      assert.match(res.stderr, /unknown gadget flag --colect-ustack/);
      assert.match(res.stderr, /collect-ustack/);
    } finally {
      await daemon.close();
    }
  });

  it('a daemon that never comes up is waited for up to --reconnect-timeout, then a clear error naming the address', async () => {
    const res = await runCli([
      'run',
      'profile_cpu',
      '--remote-address',
      `unix://${join(dir.path, 'no.sock')}`,
      '--reconnect-timeout',
      '1s',
    ]);
    assert.equal(res.code, 1);
    assert.match(res.stderr, /WARN .*no\.sock.*waiting for it for up to 1\.0 s/);
    assert.match(res.stderr, /gave up waiting for Inspektor Gadget's daemon after .*no\.sock/);
  });

  it('SIGTERM while waiting for a daemon that is not up yet ends the run at once, exit 0 (nothing was read)', async () => {
    const child = spawnCli([
      'run',
      'profile_cpu',
      '--remote-address',
      `unix://${join(dir.path, 'later.sock')}`,
    ]);
    const cli = watchCli(child);
    await cli.waitForStderr(/WARN .*later\.sock.*waiting for it until stopped/, 'the wait');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await Promise.race([cli.exit, Promise.resolve('running')]), 'running');
    child.kill('SIGTERM');
    assert.equal(await cli.exit, 0, cli.stderr());
    assert.match(cli.stderr(), /stopped before the daemon could be reached: nothing was read or exported/);
  });

  it('SIGTERM stops the gadget, exports its final flush and exits 0 once delivered', async () => {
    const daemon = await startIgDaemonDouble({
      script: () => [{ rows: emissions[0] ?? [] }],
      finalFlush: () => emissions[2] ?? [],
    });
    const server = await startHttpOtlpServer();
    try {
      const child = spawnCli([
        'run',
        'profile_cpu',
        '--remote-address',
        daemon.unixAddress,
        '--endpoint',
        server.endpoint,
      ]);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      await daemon.waitFor(() => (daemon.runs[0]?.sent ?? 0) >= 1, 15_000, 'first emission sent');
      // Give the exporter a moment to receive it before asking it to stop.
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, stderr);
      assert.equal(daemon.runs[0]?.stopRequested, true, 'the stop request reached the daemon');
      const total = totalSampleValue(server.requests.map((r) => decodeExportRequest(r.body)));
      const expected = [...(emissions[0] ?? []), ...(emissions[2] ?? [])].reduce(
        (a, r) => a + getInteger(r, 'samples')!,
        0n,
      );
      assert.equal(total, expected, 'the first fetch and the final flush were both delivered');
    } finally {
      await server.close();
      await daemon.close();
    }
  });
});

describe('export -- COMMAND', () => {
  it('SIGTERM makes the command flush (SIGINT), exports that and drains', async () => {
    const dir = tempDir();
    const server = await startHttpOtlpServer();
    try {
      const line = readFileSync(IG_EXAMPLES_PATH, 'utf8').split('\n')[0];
      const script = join(dir.path, 'fake-ig.cjs');
      writeFileSync(
        script,
        `process.on('SIGINT', () => { process.stdout.write(${JSON.stringify(line)} + '\\n', () => process.exit(0)); });\n` +
          `process.stderr.write('level=warning msg="stack with ID 4294967282 is lost"\\n');\nsetInterval(() => {}, 1000);\n`,
      );
      const child = spawnCli(['export', '--endpoint', server.endpoint, '--', process.execPath, script]);
      let stderr = '';
      child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
      while (!stderr.includes('is lost')) await new Promise((r) => setTimeout(r, 50));
      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, stderr);
      assert.match(
        stderr,
        /WARN .*stack with ID 4294967282 is lost/,
        "the command's stderr is forwarded at its level",
      );
      assert.ok(server.requests.length >= 1, 'the final flush was exported');
    } finally {
      await server.close();
      dir.cleanup();
    }
  });
});
