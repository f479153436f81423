import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDebugSink } from '../../../src/exporter/sinks/debug-sink.js';
import { Counters } from '../../../src/observability/counters.js';
import { silentLogger } from '../../../src/observability/logger.js';
import {
  buildSinkRequest,
  CPU_EXPECTED,
  CPU_PERIOD,
  sinkBatch,
  sinkConfig,
} from '../../support/sinks-fixtures.js';

async function summarize(request = buildSinkRequest(), bytes = new Uint8Array(1234)) {
  const out: string[] = [];
  const sink = createDebugSink(
    sinkConfig({ exporter: 'debug', name: 'dbg' }),
    { logger: silentLogger, counters: new Counters() },
    (s) => out.push(s),
  );
  const response = await sink.send(sinkBatch(request, bytes, 'batch-7'), 1_000);
  await sink.shutdown();
  return { response, text: out.join('') };
}

describe('debug sink', () => {
  it('summarizes a request in a few lines with the right numbers', async () => {
    const request = buildSinkRequest();
    const { response, text } = await summarize(request);
    assert.equal(response.status, 'success');
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length <= 15, `${lines.length} lines:\n${text}`);
    assert.match(
      lines[0]!,
      /debug "dbg" batch batch-7: 2 resources, 2 profiles, 6 samples, 1,234 bytes encoded/,
    );
    assert.match(text, /window 2026-01-01T00:00:00\.000Z \+ 5\.00s/);
    // 14 CPU samples at a 20.408163 ms period: 285.71 ms of CPU.
    const cpuMs = ((Number(CPU_EXPECTED.total * CPU_PERIOD) / 1e9) * 1000).toFixed(2);
    assert.match(
      text,
      new RegExp(
        `samples/count: total ${CPU_EXPECTED.total} count \\(${cpuMs}ms cpu\\) in 4 samples of 1 profiles`,
      ),
    );
    assert.match(text, /malloc\/bytes: total 5\.0 KiB in 2 samples of 1 profiles/);
    const d = request.dictionary;
    assert.ok(
      text.includes(
        `dictionary: ${d.stringTable.length} strings, 7 functions, 8 locations, 3 mappings, 4 stacks, 10 attributes, 2 links`,
      ),
      text,
    );
  });

  it('lists the hottest leaf functions with their share of the total', async () => {
    const { text } = await summarize();
    const top = text.split('top leaf functions by samples/count:\n')[1]?.trimEnd().split('\n') ?? [];
    assert.equal(top.length, 3, text);
    // do_syscall_64: 5 of 14, the address-only libc frame: 5 of 14, parseJSON: 4 of 14.
    assert.match(top[0]!, /35\.7%\s+5 count\s+do_syscall_64$/);
    assert.match(top[1]!, /35\.7%\s+5 count\s+libc\.so\.6\+0x7f000009abc0$/);
    assert.match(top[2]!, /28\.6%\s+4 count\s+parseJSON$/);
  });

  it('shows at most five leaves', async () => {
    const request = buildSinkRequest();
    const d = request.dictionary;
    const samples = request.resourceProfiles[0]!.scopeProfiles[0]!.profiles[0]!.samples;
    for (let i = 0; i < 8; i++) {
      const name = d.stringTable.push(`leaf${i}`) - 1;
      const fn =
        d.functionTable.push({
          nameStrindex: name,
          systemNameStrindex: 0,
          filenameStrindex: 0,
          startLine: 0n,
        }) - 1;
      const loc =
        d.locationTable.push({
          mappingIndex: 0,
          address: 0n,
          lines: [{ functionIndex: fn, line: 0n, column: 0n }],
          attributeIndices: [],
        }) - 1;
      const stack = d.stackTable.push({ locationIndices: [loc] }) - 1;
      samples.push({
        stackIndex: stack,
        attributeIndices: [],
        linkIndex: 0,
        values: [100n + BigInt(i)],
        timestampsUnixNano: [],
      });
    }
    const { text } = await summarize(request);
    const top = text.split('top leaf functions by samples/count:\n')[1]?.trimEnd().split('\n') ?? [];
    assert.equal(top.length, 5);
    assert.match(top[0]!, /leaf7$/);
    assert.match(top[4]!, /leaf3$/);
    assert.ok(text.trimEnd().split('\n').length <= 15);
  });

  it('reports a batch it cannot read as a failure', async () => {
    const sink = createDebugSink(
      sinkConfig({ exporter: 'debug' }),
      { logger: silentLogger, counters: new Counters() },
      () => undefined,
    );
    const batch = {
      ...sinkBatch(buildSinkRequest()),
      request: () => {
        throw new Error('truncated protobuf');
      },
    };
    const response = await sink.send(batch, 1_000);
    assert.equal(response.status, 'failure');
    assert.match(response.status === 'failure' ? response.error.message : '', /truncated protobuf/);
  });
});
