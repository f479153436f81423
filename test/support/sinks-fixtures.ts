import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExporterConfig } from '../../src/config/exporter-config.js';
import type { ExportBatch } from '../../src/exporter/export-batch.js';
import type {
  ExportProfilesServiceRequest,
  KeyValueAndUnit,
  AnyValue,
} from '../../src/profiles/model/otlp-model.js';
import { countRequest } from '../../src/profiles/model/otlp-model.js';

/**
 * A hand-built request for the sink tests: every dictionary table filled, kernel, native and
 * address-only frames, mappings with build ids, string and int sample attributes, a link, and both
 * timestamp-only and value-carrying samples. The numbers the tests expect are spelled out below.
 */

export const T0 = 1_767_225_600_000_000_000n; // 2026-01-01T00:00:00Z
export const CPU_PERIOD = 20_408_163n; // 49 Hz
export const GNU_BUILD_ID = 'abcdef0123456789';
export const HTL_HASH = '00112233445566778899aabbccddeeff';
export const TRACE_ID_HEX = '0102030405060708090a0b0c0d0e0f10';
export const SPAN_ID_HEX = '1112131415161718';

/** CPU profile of resource 0: samples per stack after merging identical samples. */
export const CPU_EXPECTED = {
  /** parseJSON ← handleRequest ← main, thread worker-1: 3 + 1 timestamps. */
  parseJsonSamples: 4n,
  /** do_syscall_64 ← … ← main, thread worker-2: values [5]. */
  syscallSamples: 5n,
  /** address-only leaf in libc, no attributes: values [2, 3]. */
  addressOnlySamples: 5n,
  total: 14n,
} as const;

/** malloc/bytes profile of resource 1. */
export const MALLOC_EXPECTED = { parseJsonBytes: 1024n, addressOnlyBytes: 4096n, total: 5120n } as const;

function strings(): { table: string[]; s: (v: string) => number } {
  const table = [''];
  const index = new Map<string, number>([['', 0]]);
  return {
    table,
    s: (v: string): number => {
      let i = index.get(v);
      if (i === undefined) {
        i = table.length;
        table.push(v);
        index.set(v, i);
      }
      return i;
    },
  };
}

export function buildSinkRequest(): ExportProfilesServiceRequest {
  const { table, s } = strings();
  const attr = (key: string, value: AnyValue, unit = ''): KeyValueAndUnit => ({
    keyStrindex: s(key),
    value,
    unitStrindex: s(unit),
  });
  const attributeTable: KeyValueAndUnit[] = [
    { keyStrindex: 0, unitStrindex: 0 },
    attr('profile.frame.type', { stringValue: 'kernel' }), // 1
    attr('profile.frame.type', { stringValue: 'native' }), // 2
    attr('process.executable.build_id.gnu', { stringValue: GNU_BUILD_ID }), // 3
    attr('process.executable.build_id.htlhash', { stringValue: HTL_HASH }), // 4
    attr('thread.name', { stringValue: 'worker-1' }), // 5
    attr('thread.id', { intValue: 17n }), // 6
    attr('thread.name', { stringValue: 'worker-2' }), // 7
    attr('thread.id', { intValue: 18n }), // 8
    attr('thread.name', { stringValue: 'trainer' }), // 9
  ];
  const fn = (name: string, file = '') => ({
    nameStrindex: s(name),
    systemNameStrindex: 0,
    filenameStrindex: s(file),
    startLine: 0n,
  });
  const functionTable = [
    { nameStrindex: 0, systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n },
    fn('do_syscall_64'), // 1
    fn('entry_SYSCALL_64_after_hwframe'), // 2
    fn('__memmove_avx_unaligned_erms'), // 3
    fn('parseJSON', 'src/json.c'), // 4
    fn('handleRequest', 'src/server.c'), // 5
    fn('main', 'src/main.c'), // 6
  ];
  const mappingTable = [
    { memoryStart: 0n, memoryLimit: 0n, fileOffset: 0n, filenameStrindex: 0, attributeIndices: [] },
    {
      memoryStart: 0x7f00_0000_0000n,
      memoryLimit: 0x7f00_0020_0000n,
      fileOffset: 0n,
      filenameStrindex: s('libc.so.6'),
      attributeIndices: [3],
    }, // 1
    {
      memoryStart: 0x40_0000n,
      memoryLimit: 0x80_0000n,
      fileOffset: 0n,
      filenameStrindex: s('/usr/bin/checkout'),
      attributeIndices: [4],
    }, // 2
  ];
  const line = (functionIndex: number, l = 0n) => ({ functionIndex, line: l, column: 0n });
  const locationTable = [
    { mappingIndex: 0, address: 0n, lines: [], attributeIndices: [] },
    { mappingIndex: 0, address: 0n, lines: [line(1)], attributeIndices: [1] }, // 1 kernel
    { mappingIndex: 0, address: 0n, lines: [line(2)], attributeIndices: [1] }, // 2 kernel
    { mappingIndex: 1, address: 0x7f00_0001_2340n, lines: [line(3)], attributeIndices: [2] }, // 3 libc memmove
    { mappingIndex: 2, address: 0x40_1000n, lines: [line(4, 42n)], attributeIndices: [2] }, // 4 parseJSON
    { mappingIndex: 2, address: 0x40_2000n, lines: [line(5, 7n)], attributeIndices: [2] }, // 5 handleRequest
    { mappingIndex: 2, address: 0x40_3000n, lines: [line(6, 3n)], attributeIndices: [2] }, // 6 main
    { mappingIndex: 1, address: 0x7f00_0009_abc0n, lines: [], attributeIndices: [2] }, // 7 address-only in libc
  ];
  const stackTable = [
    { locationIndices: [] },
    { locationIndices: [4, 5, 6] }, // 1 parseJSON ← handleRequest ← main
    { locationIndices: [1, 2, 3, 4, 5, 6] }, // 2 kernel on top of native
    { locationIndices: [7, 5, 6] }, // 3 address-only leaf
  ];
  const linkTable = [
    { traceId: new Uint8Array(0), spanId: new Uint8Array(0) },
    {
      traceId: new Uint8Array(Buffer.from(TRACE_ID_HEX, 'hex')),
      spanId: new Uint8Array(Buffer.from(SPAN_ID_HEX, 'hex')),
    },
  ];
  const sec = 1_000_000_000n;
  const cpuProfile = {
    sampleType: { typeStrindex: s('samples'), unitStrindex: s('count') },
    periodType: { typeStrindex: s('cpu'), unitStrindex: s('nanoseconds') },
    period: CPU_PERIOD,
    timeUnixNano: T0,
    durationNano: 5n * sec,
    profileId: new Uint8Array(16).fill(7),
    attributeIndices: [],
    samples: [
      {
        stackIndex: 1,
        attributeIndices: [5, 6],
        linkIndex: 0,
        values: [],
        timestampsUnixNano: [T0 + 1n, T0 + 2n, T0 + 3n],
      },
      { stackIndex: 2, attributeIndices: [7, 8], linkIndex: 0, values: [5n], timestampsUnixNano: [T0 + sec] },
      { stackIndex: 3, attributeIndices: [], linkIndex: 0, values: [2n, 3n], timestampsUnixNano: [] },
      // Same identity as the first sample, in a later fetch (attribute order differs on purpose).
      {
        stackIndex: 1,
        attributeIndices: [6, 5],
        linkIndex: 0,
        values: [],
        timestampsUnixNano: [T0 + 2n * sec],
      },
    ],
  };
  const mallocProfile = {
    sampleType: { typeStrindex: s('malloc'), unitStrindex: s('bytes') },
    periodType: { typeStrindex: s('process_cuda'), unitStrindex: s('bytes') },
    period: 1n,
    timeUnixNano: T0 + sec,
    durationNano: 4n * sec,
    attributeIndices: [],
    samples: [
      { stackIndex: 1, attributeIndices: [9], linkIndex: 1, values: [1024n], timestampsUnixNano: [T0 + sec] },
      {
        stackIndex: 3,
        attributeIndices: [9],
        linkIndex: 0,
        values: [4096n],
        timestampsUnixNano: [T0 + 2n * sec],
      },
    ],
  };
  return {
    resourceProfiles: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'checkout' } },
            { key: 'process.pid', value: { intValue: 4242n } },
            { key: 'process.executable.name', value: { stringValue: 'checkout' } },
            { key: 'k8s.namespace.name', value: { stringValue: 'shop' } },
            { key: 'k8s.pod.name', value: { stringValue: 'checkout-7d9f' } },
            { key: 'container.id', value: { stringValue: '0123456789abcdef0123456789abcdef' } },
            {
              key: 'container.image.tags',
              value: { arrayValue: { values: [{ stringValue: 'v1' }, { stringValue: 'latest' }] } },
            },
            { key: 'host.name', value: { stringValue: 'node-1' } },
          ],
        },
        scopeProfiles: [{ scope: { name: 'ig-otel-profiles', version: '0.1.0' }, profiles: [cpuProfile] }],
      },
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'trainer/gpu' } },
            { key: 'container.id', value: { stringValue: 'fedcba9876543210fedcba9876543210' } },
          ],
        },
        scopeProfiles: [{ scope: { name: 'ig-otel-profiles', version: '0.1.0' }, profiles: [mallocProfile] }],
      },
    ],
    dictionary: {
      mappingTable,
      locationTable,
      functionTable,
      linkTable,
      stringTable: table,
      attributeTable,
      stackTable,
    },
  };
}

let batchSequence = 0;

/** A batch over `request` with stand-in protobuf bytes (the sinks treat them as opaque). */
export function sinkBatch(
  request: ExportProfilesServiceRequest,
  bytes?: Uint8Array,
  id?: string,
): ExportBatch {
  const counts = countRequest(request);
  const body =
    bytes ??
    new Uint8Array(Array.from({ length: 300 + batchSequence }, (_, i) => (i * 31 + batchSequence) & 0xff));
  return {
    id: id ?? `test-${++batchSequence}`,
    bytes: body,
    profiles: counts.profiles,
    samples: counts.samples,
    request: () => request,
  };
}

export function sinkConfig(overrides: Partial<ExporterConfig> = {}): ExporterConfig {
  return {
    name: 'test',
    exporter: 'file',
    insecure: false,
    compression: 'none',
    headers: {},
    timeoutMs: 2_000,
    tls: {},
    protocol: 'protobuf',
    jsonBytes: 'hex',
    format: 'proto',
    retry: {
      enabled: true,
      initialIntervalMs: 10,
      multiplier: 1.5,
      maxIntervalMs: 100,
      maxElapsedMs: 1_000,
      jitter: 0,
    },
    batch: {
      intervalMs: 1_000,
      jitter: 0,
      maxRequestBytes: 4 << 20,
      maxSamplesPerProfile: 16_000,
      maxPendingSamples: 0,
    },
    queue: { maxBytes: 1 << 20, maxRequests: 10, concurrency: 1 },
    resource: { groupBy: 'process', serviceName: [], attributes: {} },
    samples: { merge: 'per-fetch' },
    ...overrides,
  };
}

/** A temp directory removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'igop-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Deterministic stand-in protobuf bytes for record `i` (includes 0x0a and 0x00 on purpose). */
export function recordBytes(i: number): Uint8Array {
  return Uint8Array.from({ length: 100 + i * 37 }, (_, j) => (j * 7 + i * 13) & 0xff);
}
