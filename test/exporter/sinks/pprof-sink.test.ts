import assert from 'node:assert/strict';
import { readdirSync, writeFileSync, chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPprofSink } from '../../../src/exporter/sinks/pprof-sink.js';
import { classifyIoError } from '../../../src/exporter/sinks/io-error.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import { PROFILE_CPU_SPEC } from '../../../src/gadget-bridge/profile-presets.js';
import { generateRequest } from '../../../src/profiles/request/request-generator.js';
import { ResourceResolver } from '../../../src/profiles/aggregation/resource-attributes.js';
import { SampleAggregator } from '../../../src/profiles/aggregation/sample-aggregator.js';
import { batchOf, DEFAULT_RESOURCE_CONFIG, exampleEmissions } from '../../support/profiles-fixtures.js';
import {
  buildSinkRequest,
  CPU_EXPECTED,
  CPU_PERIOD,
  MALLOC_EXPECTED,
  sinkBatch,
  sinkConfig,
  tempDir,
} from '../../support/sinks-fixtures.js';
import {
  columnTotal,
  goPprof,
  goToolSkipReason,
  pprofProblems,
  readPprofFile,
} from '../../support/sinks-pprof.js';

function pprofSink(directory: string) {
  const counters = new Counters();
  const sink = createPprofSink(sinkConfig({ exporter: 'pprof', name: 'pp', directory }), {
    logger: silentLogger,
    counters,
  });
  return { sink, counters };
}

/** How `go tool pprof` prints a nanosecond total (it picks ms below one second). */
function goMillis(nanos: bigint): string {
  return `${(Number(nanos) / 1e6).toFixed(2)}ms`;
}

describe('pprof sink', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('writes one gzipped, valid pprof file per profile into a directory it creates', async () => {
    const dir = join(tmp.dir, 'nested', 'out');
    const { sink, counters } = pprofSink(dir);
    const response = await sink.send(sinkBatch(buildSinkRequest()), 1_000);
    assert.deepEqual(response, { status: 'success' });
    const names = readdirSync(dir).sort();
    assert.deepEqual(names, [
      'checkout-4242-cpu-20260101T000000Z.pb.gz',
      'trainer_gpu-fedcba987654-malloc-20260101T000001Z.pb.gz',
    ]);
    const cpu = readPprofFile(join(dir, names[0]!));
    const malloc = readPprofFile(join(dir, names[1]!));
    assert.deepEqual(pprofProblems(cpu), []);
    assert.deepEqual(pprofProblems(malloc), []);
    assert.equal(columnTotal(cpu, 0), CPU_EXPECTED.total);
    assert.equal(columnTotal(cpu, 1), CPU_EXPECTED.total * CPU_PERIOD);
    assert.equal(columnTotal(malloc, 0), MALLOC_EXPECTED.total);
    assert.equal(counters.get('pprof_files_written', { exporter: 'pp' }), 2);
    assert.ok(counters.get('sink_bytes_written', { exporter: 'pp' }) > 0);
    await sink.shutdown();
  });

  it('never overwrites: identical names get -1, -2 … and no temporary file stays behind', async () => {
    const dir = join(tmp.dir, 'unique');
    const { sink } = pprofSink(dir);
    for (let i = 0; i < 3; i++)
      assert.equal((await sink.send(sinkBatch(buildSinkRequest()), 1_000)).status, 'success');
    const names = readdirSync(dir)
      .filter((n) => n.startsWith('checkout-'))
      .sort();
    assert.deepEqual(names, [
      'checkout-4242-cpu-20260101T000000Z-1.pb.gz',
      'checkout-4242-cpu-20260101T000000Z-2.pb.gz',
      'checkout-4242-cpu-20260101T000000Z.pb.gz',
    ]);
    assert.equal(readdirSync(dir).length, 6);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.')),
      [],
    );
  });

  it('fails permanently with the path and the setting when the directory is under a file (ENOTDIR)', async () => {
    const file = join(tmp.dir, 'plain-file');
    writeFileSync(file, 'x');
    const { sink } = pprofSink(join(file, 'profiles'));
    const response = await sink.send(sinkBatch(buildSinkRequest()), 1_000);
    assert.equal(response.status, 'failure');
    assert.match(response.error.message, /ENOTDIR/);
    assert.ok(response.error.message.includes(join(file, 'profiles')), response.error.message);
    assert.match(response.error.message, /operator\.otel-profiles\.exporters\.pp\.directory/);
  });

  it('fails permanently when the directory path is a file', async () => {
    const file = join(tmp.dir, 'another-file');
    writeFileSync(file, 'x');
    const { sink } = pprofSink(file);
    const response = await sink.send(sinkBatch(buildSinkRequest()), 1_000);
    assert.equal(response.status, 'failure');
    assert.ok(response.error.message.includes(file));
  });

  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  it(
    'fails permanently on a read-only directory (EACCES)',
    { skip: isRoot ? 'running as root: permissions do not apply' : false },
    async () => {
      const dir = join(tmp.dir, 'read-only');
      mkdirSync(dir);
      chmodSync(dir, 0o500);
      try {
        const response = await pprofSink(dir).sink.send(sinkBatch(buildSinkRequest()), 1_000);
        assert.equal(response.status, 'failure');
        assert.match(response.error.message, /EACCES/);
      } finally {
        chmodSync(dir, 0o700);
      }
    },
  );

  it('drops a batch whose dictionary is inconsistent, saying why', async () => {
    const request = buildSinkRequest();
    request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples[0]!.stackIndex = 50;
    const response = await pprofSink(join(tmp.dir, 'bad')).sink.send(
      sinkBatch(request, undefined, 'b-1'),
      1_000,
    );
    assert.equal(response.status, 'failure');
    assert.match(response.error.message, /batch b-1 .*stack_table\[50\]/);
  });

  it('refuses to start without a directory', () => {
    assert.throws(
      () =>
        createPprofSink(sinkConfig({ exporter: 'pprof', name: 'pp' }), {
          logger: silentLogger,
          counters: new Counters(),
        }),
      /operator\.otel-profiles\.exporters\.pp\.directory/,
    );
  });
});

describe('classifyIoError', () => {
  const errno = (code: string) => Object.assign(new Error(`${code}: something`), { code });
  for (const code of ['ENOSPC', 'EMFILE', 'EAGAIN', 'EDQUOT']) {
    it(`retries ${code}`, () => {
      const r = classifyIoError(errno(code), 'cannot write /x/y', 'key');
      assert.equal(r.status, 'retryable');
      assert.match(r.status === 'retryable' ? r.error.message : '', /cannot write \/x\/y: .*will retry/);
    });
  }
  for (const code of ['EACCES', 'ENOTDIR', 'EROFS', 'EISDIR', 'EPIPE']) {
    it(`gives up on ${code}, naming the setting`, () => {
      const r = classifyIoError(errno(code), 'cannot write /x/y', 'the.key');
      assert.equal(r.status, 'failure');
      assert.match(
        r.status === 'failure' ? r.error.message : '',
        new RegExp(`cannot write /x/y: ${code} .*\\[the\\.key\\]`),
      );
    });
  }
  it('treats an error without a code as a bug, not a transient condition', () => {
    assert.equal(classifyIoError(new TypeError('x is not a function'), 'a', 'k').status, 'failure');
  });
});

describe('go tool pprof reads the pprof sink output', () => {
  const skip = goToolSkipReason();
  const tmp = tempDir();
  let cpuFile = '';
  let mallocFile = '';
  before(async () => {
    if (skip) return;
    const { sink } = pprofSink(tmp.dir);
    assert.equal((await sink.send(sinkBatch(buildSinkRequest()), 1_000)).status, 'success');
    const names = readdirSync(tmp.dir);
    cpuFile = join(
      tmp.dir,
      names.find((n) => n.includes('-cpu-'))!,
    );
    mallocFile = join(
      tmp.dir,
      names.find((n) => n.includes('-malloc-'))!,
    );
  });
  after(() => tmp.cleanup());
  if (skip) console.log(`# skipping go tool pprof checks: ${skip}`);

  it('-top shows the functions, the duration and the CPU total', { skip }, () => {
    const out = goPprof(['-top', cpuFile]);
    assert.match(out, /Type: cpu/);
    assert.match(out, /Duration: 5s/);
    assert.ok(out.includes(`Total samples = ${goMillis(CPU_EXPECTED.total * CPU_PERIOD)}`), out);
    for (const fn of [
      'parseJSON',
      'handleRequest',
      'main',
      'do_syscall_64',
      'entry_SYSCALL_64_after_hwframe',
      '__memmove_avx_unaligned_erms',
    ]) {
      assert.ok(out.includes(fn), `${fn} missing from\n${out}`);
    }
    assert.match(out, /\[libc\.so\.6\]/, 'the address-only frame is attributed to its mapping');
    assert.match(out, /service\.name=checkout/, 'comments carry the resource attributes');
  });

  it('-sample_index=samples shows the sample count', { skip }, () => {
    const out = goPprof(['-top', '-sample_index=samples', cpuFile]);
    assert.ok(out.includes(`Total samples = ${CPU_EXPECTED.total} `), out);
  });

  it('-traces shows stacks leaf first with their labels', { skip }, () => {
    const out = goPprof(['-traces', cpuFile]);
    const block = out.split('-----------+').find((b) => b.includes('thread.name:  worker-2'));
    assert.ok(block, out);
    assert.match(block, /thread\.id:\s+18/);
    assert.match(block, /service\.name:\s+checkout/);
    assert.match(block, /process\.pid:\s+4242/);
    const frames = block
      .split('\n')
      .filter((l) => !l.includes(':'))
      .map((l) => l.trim().split(/\s+/).pop() ?? '')
      .filter((f) => /^[A-Za-z_]/.test(f));
    assert.deepEqual(frames, [
      'do_syscall_64',
      'entry_SYSCALL_64_after_hwframe',
      '__memmove_avx_unaligned_erms',
      'parseJSON',
      'handleRequest',
      'main',
    ]);
    assert.ok(block.includes(goMillis(CPU_EXPECTED.syscallSamples * CPU_PERIOD)), block);
  });

  it('-tagfocus filters on sample and resource labels', { skip }, () => {
    const shown = (args: string[]) =>
      /Showing nodes accounting for (\S+),/.exec(goPprof(['-top', ...args, cpuFile]))?.[1];
    assert.equal(
      shown(['-tagfocus=thread.name=worker-2']),
      goMillis(CPU_EXPECTED.syscallSamples * CPU_PERIOD),
    );
    assert.equal(shown(['-tagfocus=thread.id=17']), goMillis(CPU_EXPECTED.parseJsonSamples * CPU_PERIOD));
    assert.equal(shown(['-tagfocus=service.name=checkout']), goMillis(CPU_EXPECTED.total * CPU_PERIOD));
    assert.equal(shown(['-tagfocus=k8s.namespace.name=shop']), goMillis(CPU_EXPECTED.total * CPU_PERIOD));
    assert.equal(shown(['-tagfocus=k8s.namespace.name=other']), '0');
  });

  it('reads non-CPU profiles in their own unit', { skip }, () => {
    const out = goPprof(['-top', '-unit=bytes', mallocFile]);
    assert.match(out, /Type: malloc/);
    assert.ok(out.includes(`Total samples = ${MALLOC_EXPECTED.total}B`), out);
    const traces = goPprof(['-traces', mallocFile]);
    assert.match(traces, /trace_id:\s+0102030405060708090a0b0c0d0e0f10/);
  });
});

describe('pprof sink over the example IG capture', () => {
  const tmp = tempDir();
  after(() => tmp.cleanup());

  it('writes valid files whose totals match the OTLP request, readable by go tool pprof', async () => {
    const resources = new ResourceResolver({ config: DEFAULT_RESOURCE_CONFIG });
    const agg = new SampleAggregator({ resources, counters: new Counters(), exporter: 't' });
    const t0 = 1_763_800_000_000_000_000n;
    exampleEmissions().forEach((rows, i) =>
      agg.add(
        batchOf(PROFILE_CPU_SPEC, rows, t0 + BigInt(i) * 1_000_000_000n, t0 + BigInt(i + 1) * 1_000_000_000n),
      ),
    );
    const request = generateRequest(agg.drain(), { resources, sampleMerge: 'per-fetch' });
    assert.ok(request);
    // Expected per resource: the sample values of the OTLP profiles (timestamps when there are none).
    const expected = request.resourceProfiles.map((rp) =>
      rp.scopeProfiles
        .flatMap((sp) => sp.profiles)
        .flatMap((p) => p.samples)
        .reduce(
          (n, s) =>
            n +
            (s.values.length ? s.values.reduce((a, b) => a + b, 0n) : BigInt(s.timestampsUnixNano.length)),
          0n,
        ),
    );
    const { sink } = pprofSink(tmp.dir);
    assert.equal((await sink.send(sinkBatch(request), 1_000)).status, 'success');
    const files = readdirSync(tmp.dir).sort();
    assert.equal(files.length, expected.length);
    const got = files.map((f) => readPprofFile(join(tmp.dir, f)));
    for (const p of got) assert.deepEqual(pprofProblems(p), []);
    const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
    assert.equal(sum(got.map((p) => columnTotal(p, 0))), sum(expected));
    assert.equal(sum(got.map((p) => columnTotal(p, 1))), sum(expected) * PROFILE_CPU_SPEC.period!);
    const skip = goToolSkipReason();
    if (skip) {
      console.log(`# skipping go tool pprof on the example capture: ${skip}`);
      return;
    }
    const total = sum(expected);
    const out = goPprof(['-top', '-sample_index=samples', ...files.map((f) => join(tmp.dir, f))]);
    assert.ok(out.includes(`Total samples = ${total} `), out);
  });
});
