/**
 * Test fixtures for the OTLP transports: a tiny but valid ExportProfilesServiceRequest encoded with
 * protobufjs reflection over the project's .proto files (independent of the project's own encoder),
 * a decoder for what test servers receive, and a complete ExporterConfig with overridable fields.
 */
import type { ExporterConfig } from '../../src/config/exporter-config.js';
import type { ExportBatch } from '../../src/exporter/export-batch.js';
import { getProfilesProtoRoot } from '../../src/profiles/encoding/proto-schema.js';
import type { ExportProfilesServiceRequest } from '../../src/profiles/model/otlp-model.js';

const root = getProfilesProtoRoot();
const RequestType = root.lookupType(
  'opentelemetry.proto.collector.profiles.v1development.ExportProfilesServiceRequest',
);

/** 2026-01-01T00:00:00Z in Unix nanoseconds. */
const T0 = 1_767_225_600_000_000_000n;

/**
 * One resource, one CPU profile, one sample of a one-frame stack. `padding` adds a string of that
 * many bytes to the string table, to make requests of a chosen size.
 */
export function tinyRequest(
  options: { serviceName?: string; padding?: number } = {},
): ExportProfilesServiceRequest {
  const strings = ['', 'samples', 'count', 'cpu', 'nanoseconds', 'main'];
  if (options.padding) strings.push('x'.repeat(options.padding));
  return {
    dictionary: {
      mappingTable: [
        { memoryStart: 0n, memoryLimit: 0n, fileOffset: 0n, filenameStrindex: 0, attributeIndices: [] },
      ],
      locationTable: [
        { mappingIndex: 0, address: 0n, lines: [], attributeIndices: [] },
        {
          mappingIndex: 0,
          address: 0x1000n,
          lines: [{ functionIndex: 1, line: 0n, column: 0n }],
          attributeIndices: [],
        },
      ],
      functionTable: [
        { nameStrindex: 0, systemNameStrindex: 0, filenameStrindex: 0, startLine: 0n },
        { nameStrindex: 5, systemNameStrindex: 5, filenameStrindex: 0, startLine: 0n },
      ],
      linkTable: [{ traceId: new Uint8Array(0), spanId: new Uint8Array(0) }],
      stringTable: strings,
      attributeTable: [{ keyStrindex: 0, unitStrindex: 0 }],
      stackTable: [{ locationIndices: [] }, { locationIndices: [1] }],
    },
    resourceProfiles: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: options.serviceName ?? 'transport-test' } },
          ],
        },
        scopeProfiles: [
          {
            scope: { name: 'ig-otel-profiles', version: 'test' },
            profiles: [
              {
                sampleType: { typeStrindex: 1, unitStrindex: 2 },
                periodType: { typeStrindex: 3, unitStrindex: 4 },
                period: 10_000_000n,
                timeUnixNano: T0,
                durationNano: 1_000_000_000n,
                attributeIndices: [],
                samples: [
                  {
                    stackIndex: 1,
                    attributeIndices: [],
                    linkIndex: 0,
                    values: [],
                    timestampsUnixNano: [T0 + 5n],
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  };
}

/** protobuf bytes of a request model (protobufjs reflection, not the project's encoder). */
export function encodeTestRequest(request: ExportProfilesServiceRequest): Uint8Array {
  return RequestType.encode(RequestType.fromObject(request)).finish();
}

/** Decodes request bytes a test server received: plain object, int64 as decimal strings. */
export function decodeTestRequest(bytes: Uint8Array): Record<string, unknown> {
  return RequestType.toObject(RequestType.decode(bytes), { longs: String, arrays: true });
}

let sequence = 0;

/** An ExportBatch of `tinyRequest(options)`. */
export function tinyBatch(options: { serviceName?: string; padding?: number } = {}): ExportBatch {
  const request = tinyRequest(options);
  sequence += 1;
  return {
    id: `test-${sequence}`,
    bytes: encodeTestRequest(request),
    profiles: 1,
    samples: 1,
    request: () => request,
  };
}

/** A complete exporter config (otlp-grpc, insecure) with `overrides` applied. */
export function testExporterConfig(overrides: Partial<ExporterConfig> = {}): ExporterConfig {
  return {
    name: 'test',
    exporter: 'otlp-grpc',
    insecure: true,
    compression: 'none',
    headers: {},
    timeoutMs: 5_000,
    tls: {},
    protocol: 'protobuf',
    jsonBytes: 'hex',
    format: 'json',
    retry: {
      enabled: true,
      initialIntervalMs: 5_000,
      multiplier: 1.5,
      maxIntervalMs: 30_000,
      maxElapsedMs: 300_000,
      jitter: 0.2,
    },
    batch: {
      intervalMs: 5_000,
      jitter: 0.2,
      maxRequestBytes: 4 * 1024 * 1024,
      maxSamplesPerProfile: 16_000,
      maxPendingSamples: 0,
    },
    queue: { maxBytes: 64 * 1024 * 1024, maxRequests: 1_000, concurrency: 1 },
    resource: { groupBy: 'process', serviceName: ['process.executable.name'], attributes: {} },
    samples: { merge: 'per-fetch' },
    ...overrides,
  };
}
