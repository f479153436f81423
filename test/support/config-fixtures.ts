import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigFlags, LoadedConfig } from '../../src/config/load-config.js';
import { loadConfig } from '../../src/config/load-config.js';
import type { Logger } from '../../src/observability/logger.js';
import { createLogger } from '../../src/observability/logger.js';

/** A logger that keeps its lines, to assert on warnings (and on what must never be logged). */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'debug', write: (line) => void lines.push(line) }), lines };
}

/** A temp directory removed by `cleanup()`; `write(name, text)` returns the file's path. */
export function tempDir(): { dir: string; write(name: string, text: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'igop-'));
  return {
    dir,
    write(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface LoadOptions {
  readonly yaml?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly flags?: ConfigFlags;
}

/** Loads a configuration from YAML text (written to a temp file), env and flags. */
export function load(options: LoadOptions): LoadedConfig & { lines: string[] } {
  const { logger, lines } = captureLogger();
  const tmp = tempDir();
  try {
    const configFile = options.yaml !== undefined ? tmp.write('config.yaml', options.yaml) : undefined;
    const config = loadConfig({
      ...(configFile !== undefined ? { configFile } : {}),
      env: options.env ?? {},
      flags: options.flags ?? {},
      logger,
    });
    return Object.assign(config, { lines });
  } finally {
    tmp.cleanup();
  }
}

/** The problems of the ConfigError `fn` throws (fails the test when it does not throw one). */
export function problemsOf(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof Error && err.name === 'ConfigError')
      return (err as Error & { problems: readonly string[] }).problems;
    throw err;
  }
  throw new Error('expected a ConfigError, but loading succeeded');
}

/** The layout of IG's own config file (docs/reference/export-*.mdx), other operators and IG keys included. */
export const IG_CONFIG = `# ~/.ig/config.yaml
verbose: false
operator:
  oci:
    verify-image: true
    public-keys:
      - |
        -----BEGIN PUBLIC KEY-----
        MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE
        -----END PUBLIC KEY-----
  otel-logs:
    exporters:
      my-logs-exporter:
        exporter: otlp-grpc
        endpoint: "127.0.0.1:4317"
        insecure: true
  otel-metrics:
    otel-metrics-listen: true
    otel-metrics-listen-address: 0.0.0.0:2224
    exporters:
      my-metrics-exporter:
        exporter: otlp-grpc
        endpoint: "localhost:4317"
        insecure: true
        temporality: delta
        interval: 30s
        collectGoMetrics: false
  otel-profiles:
    exporters:
      my-profiles-exporter:
        exporter: otlp-grpc
        endpoint: "127.0.0.1:4040"
        insecure: true
        compression: gzip
`;
