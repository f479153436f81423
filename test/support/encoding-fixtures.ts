import type {
  ExportProfilesServiceRequest,
  KeyValueAndUnit,
  ProfilesDictionary,
} from '../../src/profiles/model/otlp-model.js';

/** 2026-01-01T00:00:00Z in ns: above 2^53, so any lossy number conversion shows. */
export const T0 = 1_767_225_600_000_000_000n;
export const TRACE_ID = Uint8Array.from([
  0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36,
]);
export const SPAN_ID = Uint8Array.from([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]);
export const PROFILE_ID = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
/** Kernel text address: a uint64 far above 2^53 (and above 2^63). */
export const KERNEL_ADDRESS = 0xffff_ffff_8100_0000n;
export const NON_ASCII_NAME = 'fünction_✓_𝛑';

/**
 * A small but complete request that conforms to every rule (all checks of the validator on): seven tables
 * with real entries, every index-0 zero value, resource/scope attributes of every AnyValue kind,
 * 64-bit timestamps above 2^53, negative int64 attribute values, inlined lines, a link with 16/8-byte ids, two
 * resources with one profile each (shape timestamps-only and shape both).
 *
 * The shape is the decoders' canonical form (optional fields present only when non-default), so
 * `deepStrictEqual(decode(encode(x)), x)` is the round-trip check.
 */
export function completeRequest(): ExportProfilesServiceRequest {
  const strings: string[] = [''];
  const s = (v: string): number => {
    const i = strings.indexOf(v);
    if (i >= 0) return i;
    strings.push(v);
    return strings.length - 1;
  };
  const attributeTable: KeyValueAndUnit[] = [
    { keyStrindex: 0, unitStrindex: 0 },
    {
      keyStrindex: s('process.executable.build_id.gnu'),
      value: { stringValue: '8a4f1c2d3e' },
      unitStrindex: 0,
    }, // 1
    { keyStrindex: s('profile.frame.type'), value: { stringValue: 'native' }, unitStrindex: 0 }, // 2
    { keyStrindex: s('profile.frame.type'), value: { stringValue: 'kernel' }, unitStrindex: 0 }, // 3
    { keyStrindex: s('thread.id'), value: { intValue: 1234n }, unitStrindex: 0 }, // 4
    { keyStrindex: s('thread.name'), value: { stringValue: 'wörker-1' }, unitStrindex: 0 }, // 5
    {
      keyStrindex: s('pprof.profile.comment'),
      value: { arrayValue: { values: [{ stringValue: 'first' }, { stringValue: 'second' }] } },
      unitStrindex: 0,
    }, // 6
    { keyStrindex: s('process.memory.usage'), value: { intValue: 1n << 40n }, unitStrindex: s('By') }, // 7
  ];
  const dictionaryStart = {
    samples: s('samples'),
    count: s('count'),
    cpu: s('cpu'),
    nanoseconds: s('nanoseconds'),
    offCpu: s('off_cpu'),
  };
  const dictionary: ProfilesDictionary = {
    mappingTable: [
      { memoryStart: 0n, memoryLimit: 0n, fileOffset: 0n, filenameStrindex: 0, attributeIndices: [] },
      {
        memoryStart: 0x40_0000n,
        memoryLimit: 0x50_0000n,
        fileOffset: 0x1000n,
        filenameStrindex: s('/usr/bin/app'),
        attributeIndices: [1],
      },
      {
        memoryStart: 0n,
        memoryLimit: 0n,
        fileOffset: 0n,
        filenameStrindex: s('vmlinux'),
        attributeIndices: [1],
      },
    ],
    functionTable: [
      { nameStrindex: 0, systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n },
      {
        nameStrindex: s('main'),
        systemNameStrindex: s('_Z4mainv'),
        filenameStrindex: s('main.c'),
        startLine: 10n,
      }, // 1
      { nameStrindex: s('do_work'), systemNameStrindex: 0, filenameStrindex: s('main.c'), startLine: 42n }, // 2
      { nameStrindex: s('schedule'), systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n }, // 3
      { nameStrindex: s(NON_ASCII_NAME), systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n }, // 4
    ],
    locationTable: [
      { mappingIndex: 0, address: 0n, lines: [], attributeIndices: [] },
      {
        mappingIndex: 1,
        address: 0x40_1234n,
        // do_work inlined into main: the last line is the caller.
        lines: [
          { functionIndex: 2, line: 50n, column: 3n },
          { functionIndex: 1, line: 12n, column: 0n },
        ],
        attributeIndices: [2],
      }, // 1
      {
        mappingIndex: 1,
        address: 0x40_1000n,
        lines: [{ functionIndex: 4, line: 7n, column: 0n }],
        attributeIndices: [2],
      }, // 2
      {
        mappingIndex: 2,
        address: KERNEL_ADDRESS,
        lines: [{ functionIndex: 3, line: 0n, column: 0n }],
        attributeIndices: [3],
      }, // 3
    ],
    linkTable: [
      { traceId: new Uint8Array(0), spanId: new Uint8Array(0) },
      { traceId: TRACE_ID, spanId: SPAN_ID },
    ],
    stringTable: strings,
    attributeTable,
    stackTable: [{ locationIndices: [] }, { locationIndices: [1, 2] }, { locationIndices: [3, 1, 2] }],
  };
  const request: ExportProfilesServiceRequest = {
    resourceProfiles: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'checkout' } },
            { key: 'process.pid', value: { intValue: 4242n } },
            { key: 'host.arch.is64', value: { boolValue: true } },
            { key: 'sample.ratio', value: { doubleValue: 0.25 } },
            { key: 'neg.int', value: { intValue: -5n } },
            { key: 'blob', value: { bytesValue: Uint8Array.from([0, 1, 2, 0xfe, 0xff]) } },
            {
              key: 'process.command_args',
              value: {
                arrayValue: {
                  values: [{ stringValue: '/usr/bin/app' }, { stringValue: '--fast' }, { intValue: 3n }],
                },
              },
            },
            {
              key: 'nested',
              value: {
                kvlistValue: {
                  values: [
                    { key: 'inner', value: { stringValue: 'x' } },
                    { key: 'flag', value: { boolValue: false } },
                  ],
                },
              },
            },
            { key: 'empty.string', value: { stringValue: '' } },
          ],
          droppedAttributesCount: 2,
        },
        scopeProfiles: [
          {
            scope: {
              name: 'ig-otel-profiles',
              version: '0.1.0',
              attributes: [{ key: 'gadget', value: { stringValue: 'profile_cpu' } }],
            },
            profiles: [
              {
                sampleType: { typeStrindex: dictionaryStart.samples, unitStrindex: dictionaryStart.count },
                samples: [
                  {
                    stackIndex: 1,
                    attributeIndices: [4, 5],
                    linkIndex: 1,
                    values: [],
                    timestampsUnixNano: [T0 + 1n, T0 + 2n],
                  },
                  {
                    stackIndex: 2,
                    attributeIndices: [4],
                    linkIndex: 0,
                    values: [],
                    timestampsUnixNano: [T0 + 5_000_000_000n],
                  },
                ],
                timeUnixNano: T0,
                durationNano: 10_000_000_000n,
                periodType: { typeStrindex: dictionaryStart.cpu, unitStrindex: dictionaryStart.nanoseconds },
                period: 10_000_000n,
                profileId: PROFILE_ID,
                attributeIndices: [6, 7],
              },
            ],
            schemaUrl: 'https://opentelemetry.io/schemas/1.40.0',
          },
        ],
        schemaUrl: 'https://opentelemetry.io/schemas/1.40.0',
      },
      {
        resource: { attributes: [{ key: 'process.pid', value: { intValue: 7n } }] },
        scopeProfiles: [
          {
            scope: { name: 'ig-otel-profiles', version: '0.1.0' },
            profiles: [
              {
                sampleType: {
                  typeStrindex: dictionaryStart.offCpu,
                  unitStrindex: dictionaryStart.nanoseconds,
                },
                samples: [
                  {
                    stackIndex: 2,
                    attributeIndices: [],
                    linkIndex: 0,
                    values: [3n, 1n << 40n],
                    timestampsUnixNano: [T0, T0 + 999n],
                  },
                ],
                timeUnixNano: T0,
                durationNano: 1_000n,
                period: 0n,
                droppedAttributesCount: 1,
                originalPayloadFormat: 'pprof',
                originalPayload: Uint8Array.from([0x1f, 0x8b, 0x08, 0x00]),
                attributeIndices: [],
              },
            ],
          },
        ],
      },
    ],
    dictionary,
  };
  return request;
}

/**
 * Converts the model to the plain object protobufjs' `Type.fromObject` takes, dropping proto3 default
 * scalars (protobufjs writes any property that is set, even 0) so its encoding has the same semantics
 * as ours. Written independently of the code under test.
 */
export function toProtobufjsPlain(value: unknown): unknown {
  if (
    typeof value === 'bigint' ||
    typeof value === 'number' ||
    typeof value === 'string' ||
    typeof value === 'boolean'
  ) {
    return value;
  }
  if (value instanceof Uint8Array) return value;
  if (Array.isArray(value)) return value.map((v) => toProtobufjsPlain(v));
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    const entries = Object.entries(value as Record<string, unknown>);
    // A single-key object whose key is an AnyValue member keeps its default (oneof presence).
    const isAnyValue =
      entries.length === 1 &&
      [
        'stringValue',
        'boolValue',
        'intValue',
        'doubleValue',
        'bytesValue',
        'arrayValue',
        'kvlistValue',
        'stringValueStrindex',
      ].includes(entries[0]![0]);
    for (const [k, v] of entries) {
      if (v === undefined) continue;
      if (!isAnyValue && (v === 0 || v === 0n || v === '' || v === false)) continue;
      if (!isAnyValue && v instanceof Uint8Array && v.length === 0) continue;
      // ExportProfilesServiceRequest.dictionary.stringTable: keep "" entries (they are elements).
      out[k] = k === 'stringTable' ? v : toProtobufjsPlain(v);
    }
    return out;
  }
  return value;
}

/** A deep copy of a request (structuredClone keeps bigint and Uint8Array). */
export function cloneRequest(r: ExportProfilesServiceRequest): ExportProfilesServiceRequest {
  return structuredClone(r);
}
