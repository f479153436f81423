import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { createFileSink, readOtlpFile } from '../../../src/exporter/sinks/file-sink.js';
import { decodeExportRequest } from '../../../src/profiles/encoding/decode-request.js';
import { encodeExportRequest } from '../../../src/profiles/encoding/encode-request.js';
import { fromOtlpJson } from '../../../src/profiles/encoding/otlp-json.js';
import { toPprofProfiles } from '../../../src/profiles/pprof/otlp-to-pprof.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import {
  buildSinkRequest,
  recordBytes,
  sinkBatch,
  sinkConfig,
  tempDir,
  TRACE_ID_HEX,
} from '../../support/sinks-fixtures.js';

const CHILD = new URL('../../support/sinks-stdout-child.ts', import.meta.url).pathname;

function fileSink(path: string, format: 'json' | 'proto', stdout?: Writable) {
  const counters = new Counters();
  const sink = createFileSink(sinkConfig({ exporter: 'file', name: 'f', path, format }), {
    logger: silentLogger,
    counters,
    ...(stdout ? { stdout } : {}),
  });
  return { sink, counters };
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function runChild(args: string[], onSpawn?: (child: ReturnType<typeof spawn>) => void) {
  return new Promise<{ stdout: Buffer; stderr: string; code: number | null }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stdout.on('error', () => undefined);
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ stdout: Buffer.concat(out), stderr: err, code }));
    onSpawn?.(child);
  });
}

function responsesOf(stderr: string): { i: number; status: string; error?: string }[] {
  return stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { i: number; status: string; error?: string });
}

describe('file sink, proto format', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('frames each request with a 4-byte big-endian length; readOtlpFile gives the bytes back', async () => {
    const path = join(tmp.dir, 'sub', 'profiles.binpb');
    const { sink, counters } = fileSink(path, 'proto');
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await sink.send(sinkBatch(buildSinkRequest(), recordBytes(i)), 1_000), {
        status: 'success',
      });
    }
    await sink.shutdown();
    const raw = readFileSync(path);
    assert.equal(raw.readUInt32BE(0), recordBytes(0).length);
    assert.equal(
      raw.length,
      [0, 1, 2].reduce((n, i) => n + 4 + recordBytes(i).length, 0),
    );
    const records = await collect(readOtlpFile(path, 'proto'));
    assert.deepEqual(
      records.map((r) => Buffer.from(r)),
      [0, 1, 2].map((i) => Buffer.from(recordBytes(i))),
    );
    assert.equal(counters.get('file_requests_written', { exporter: 'f' }), 3);
    assert.equal(counters.get('sink_bytes_written', { exporter: 'f' }), raw.length);
  });

  it('appends to an existing file (a restarted exporter keeps earlier data)', async () => {
    const path = join(tmp.dir, 'append.binpb');
    for (let run = 0; run < 2; run++) {
      const { sink } = fileSink(path, 'proto');
      assert.equal(
        (await sink.send(sinkBatch(buildSinkRequest(), recordBytes(run)), 1_000)).status,
        'success',
      );
      await sink.shutdown();
    }
    const records = await collect(readOtlpFile(path, 'proto'));
    assert.deepEqual(
      records.map((r) => Buffer.from(r)),
      [Buffer.from(recordBytes(0)), Buffer.from(recordBytes(1))],
    );
  });

  it('keeps concurrent sends whole and in order', async () => {
    const path = join(tmp.dir, 'concurrent.binpb');
    const { sink } = fileSink(path, 'proto');
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => sink.send(sinkBatch(buildSinkRequest(), recordBytes(i)), 1_000)),
    );
    assert.ok(results.every((r) => r.status === 'success'));
    const records = await collect(readOtlpFile(path, 'proto'));
    assert.deepEqual(
      records.map((r) => Buffer.from(r)),
      Array.from({ length: 25 }, (_, i) => Buffer.from(recordBytes(i))),
    );
  });

  it('readOtlpFile names the offset of a truncated record and recognises JSON read as proto', async () => {
    const path = join(tmp.dir, 'truncated.binpb');
    const whole = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from([1, 2, 3])]);
    writeFileSync(path, Buffer.concat([whole, Buffer.from([0, 0, 0, 9, 1, 2])]));
    await assert.rejects(collect(readOtlpFile(path, 'proto')), /truncated record at byte 7/);
    const jsonPath = join(tmp.dir, 'wrong.jsonl');
    writeFileSync(jsonPath, '{"resourceProfiles":[]}\n');
    await assert.rejects(
      collect(readOtlpFile(jsonPath, 'proto')),
      /not a length-prefixed protobuf file .*format json/,
    );
  });

  it('fails permanently when the path is below a file (ENOTDIR), naming path and setting', async () => {
    const file = join(tmp.dir, 'a-file');
    writeFileSync(file, 'x');
    const path = join(file, 'out.binpb');
    const response = await fileSink(path, 'proto').sink.send(sinkBatch(buildSinkRequest()), 1_000);
    assert.equal(response.status, 'failure');
    const message = response.status === 'failure' ? response.error.message : '';
    assert.match(message, /ENOTDIR/);
    assert.ok(message.includes(path), message);
    assert.match(message, /operator\.otel-profiles\.exporters\.f\.path/);
  });

  it('fails permanently when the path is a directory (EISDIR)', async () => {
    const dir = join(tmp.dir, 'a-dir');
    mkdirSync(dir);
    const response = await fileSink(dir, 'proto').sink.send(sinkBatch(buildSinkRequest()), 1_000);
    assert.equal(response.status, 'failure');
    assert.match(response.status === 'failure' ? response.error.message : '', /EISDIR/);
  });

  it('refuses to start without a path', () => {
    assert.throws(
      () =>
        createFileSink(sinkConfig({ exporter: 'file', name: 'f' }), {
          logger: silentLogger,
          counters: new Counters(),
        }),
      /operator\.otel-profiles\.exporters\.f\.path/,
    );
  });
});

describe('file sink, json format', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('writes one OTLP/JSON request per line with hex ids and string 64-bit integers', async () => {
    const path = join(tmp.dir, 'profiles.jsonl');
    const { sink } = fileSink(path, 'json');
    for (let i = 0; i < 2; i++)
      assert.equal((await sink.send(sinkBatch(buildSinkRequest()), 1_000)).status, 'success');
    const lines = readFileSync(path, 'utf8').split('\n');
    assert.equal(lines.length, 3, 'two lines and the final newline');
    assert.equal(lines[2], '');
    const texts = await collect(readOtlpFile(path, 'json'));
    assert.equal(texts.length, 2);
    for (const text of texts) {
      const doc = JSON.parse(text) as {
        resourceProfiles: {
          resource: { attributes: { key: string }[] };
          scopeProfiles: { profiles: { timeUnixNano: unknown }[] }[];
        }[];
        dictionary: { stringTable: string[]; linkTable: { traceId?: string }[] };
      };
      assert.equal(doc.resourceProfiles.length, 2);
      assert.equal(doc.resourceProfiles[0]!.resource.attributes[0]!.key, 'service.name');
      assert.equal(
        doc.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.timeUnixNano,
        '1767225600000000000',
      );
      assert.ok(doc.dictionary.stringTable.includes('parseJSON'));
      assert.equal(doc.dictionary.linkTable[1]!.traceId?.toLowerCase(), TRACE_ID_HEX);
    }
  });
});

describe('file sink, replay', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  /** Total sample value per pprof file: what a replayed file must reproduce. */
  const totals = (request: Parameters<typeof toPprofProfiles>[0]) =>
    toPprofProfiles(request).map(
      (f) => `${f.name}=${f.profile.sample.reduce((n, s) => n + BigInt(s.value[0] ?? 0), 0n)}`,
    );

  for (const format of ['proto', 'json'] as const) {
    it(`replays a ${format} file into the same profiles`, async () => {
      const path = join(tmp.dir, `replay.${format}`);
      const request = buildSinkRequest();
      const { sink } = fileSink(path, format);
      assert.equal(
        (await sink.send(sinkBatch(request, encodeExportRequest(request)), 1_000)).status,
        'success',
      );
      const replayed =
        format === 'proto'
          ? (await collect(readOtlpFile(path, 'proto'))).map((b) => decodeExportRequest(b))
          : (await collect(readOtlpFile(path, 'json'))).map((t) => fromOtlpJson(t));
      assert.equal(replayed.length, 1);
      assert.deepEqual(totals(replayed[0]!), totals(request));
      assert.deepEqual(totals(request), [
        'checkout-4242-cpu-20260101T000000Z=14',
        'trainer_gpu-fedcba987654-malloc-20260101T000001Z=5120',
      ]);
    });
  }
});

describe('file sink, stdout', () => {
  it('writes framed requests to stdout and nothing else (child process)', async () => {
    const { stdout, stderr, code } = await runChild(['proto', '3']);
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      responsesOf(stderr).map((r) => r.status),
      ['success', 'success', 'success'],
    );
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'stdout.binpb');
      writeFileSync(path, stdout);
      const records = await collect(readOtlpFile(path, 'proto'));
      assert.deepEqual(
        records.map((r) => Buffer.from(r)),
        [0, 1, 2].map((i) => Buffer.from(recordBytes(i))),
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('writes JSON lines to stdout (child process)', async () => {
    const { stdout, stderr, code } = await runChild(['json', '2']);
    assert.equal(code, 0, stderr);
    const lines = stdout.toString('utf8').trimEnd().split('\n');
    assert.equal(lines.length, 2);
    for (const line of lines)
      assert.ok((JSON.parse(line) as { resourceProfiles: unknown[] }).resourceProfiles.length === 2);
  });

  it('turns a closed stdout pipe into permanent failures instead of a crash (child process)', async () => {
    const { stderr, code } = await runChild(['proto', '3', '300'], (child) => child.stdout?.destroy());
    assert.equal(code, 0, stderr);
    const responses = responsesOf(stderr);
    assert.equal(responses.length, 3, stderr);
    assert.ok(
      responses.some((r) => r.status === 'failure' && /EPIPE/.test(r.error ?? '')),
      stderr,
    );
    assert.equal(responses.at(-1)?.status, 'failure');
  });

  it('waits for drain when the reader is slow, keeping requests whole and in order', async () => {
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 64,
      write(chunk: Buffer, _enc, callback) {
        chunks.push(chunk);
        setTimeout(callback, 5);
      },
    });
    const { sink } = fileSink('-', 'proto', slow);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => sink.send(sinkBatch(buildSinkRequest(), recordBytes(i)), 2_000)),
    );
    assert.ok(results.every((r) => r.status === 'success'));
    await sink.shutdown();
    assert.equal(chunks.length, 6, 'one write call per request');
    const tmp = tempDir();
    try {
      const path = join(tmp.dir, 'slow.binpb');
      writeFileSync(path, Buffer.concat(chunks));
      const records = await collect(readOtlpFile(path, 'proto'));
      assert.deepEqual(
        records.map((r) => Buffer.from(r)),
        Array.from({ length: 6 }, (_, i) => Buffer.from(recordBytes(i))),
      );
    } finally {
      tmp.cleanup();
    }
  });

  it('reports a reader that stops draining as retryable without writing the request', async () => {
    const chunks: Buffer[] = [];
    const stuck = new Writable({
      highWaterMark: 16,
      write(chunk: Buffer) {
        chunks.push(chunk); // never calls back: the reader has stalled
      },
    });
    const { sink } = fileSink('-', 'proto', stuck);
    // The sink's wait timers are unref'd (they must not keep an exporter alive); this test must stay alive.
    const keepAlive = setInterval(() => undefined, 1_000);
    try {
      const first = await sink.send(sinkBatch(buildSinkRequest(), recordBytes(0)), 50);
      assert.equal(first.status, 'success', 'the first request is in the stream buffer');
      const second = await sink.send(sinkBatch(buildSinkRequest(), recordBytes(1)), 50);
      assert.equal(second.status, 'retryable');
      assert.match(second.status === 'retryable' ? second.error.message : '', /did not drain within 50 ms/);
      assert.equal(chunks.length, 1, 'the retryable request was not written');
    } finally {
      clearInterval(keepAlive);
      await sink.shutdown();
      stuck.destroy();
    }
  });
});
