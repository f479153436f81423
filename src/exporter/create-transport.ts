import type { ExporterConfig } from '../config/exporter-config.js';
import type { ExporterDeps } from './exporter-deps.js';
import type { ExporterTransport } from './exporter-transport.js';
import { createDebugSink } from './sinks/debug-sink.js';
import { createFileSink } from './sinks/file-sink.js';
import { createPprofSink } from './sinks/pprof-sink.js';
import { createOtlpHttpTransport } from './transport/otlp-http-transport.js';

/**
 * The one place exporter kinds (`exporter:` in the config) meet their implementations. The gRPC
 * transport is loaded only when an exporter uses it: @grpc/grpc-js adds ~3.5 MiB of RSS that
 * an OTLP/HTTP or file exporter never needs.
 */
export async function createTransport(
  config: ExporterConfig,
  deps: ExporterDeps,
): Promise<ExporterTransport> {
  switch (config.exporter) {
    case 'otlp-grpc': {
      const { createOtlpGrpcTransport } = await import('./transport/otlp-grpc-transport.js');
      return createOtlpGrpcTransport(config, deps);
    }
    case 'otlp-http':
      return createOtlpHttpTransport(config, deps);
    case 'file':
      return createFileSink(config, deps);
    case 'pprof':
      return createPprofSink(config, deps);
    case 'debug':
      return createDebugSink(config, deps);
  }
}
