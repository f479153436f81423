import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { createJsonRowSource } from '../gadget-bridge/json/json-row-source.js';
import { createSpecResolver, DEFAULT_FETCH_INTERVAL_NANO } from '../gadget-bridge/profile-presets.js';
import { parseExporterSelection, selectedExporterNames } from '../config/exporter-selection.js';
import { readOtlpFile } from '../exporter/sinks/file-sink.js';
import { fromOtlpJson } from '../profiles/encoding/otlp-json.js';
import { countRequest } from '../profiles/model/otlp-model.js';
import { validateRequest } from '../profiles/validation/conformance-validator.js';
import { COMMON_HELP, parseCommand, UsageError } from './cli-options.js';
import type { CommandContext, SessionInput, SessionParts } from './command-context.js';
import type { RowSource } from '../rows/row-batch.js';
import { openSession, printConfig } from './command-context.js';

/** The capture `npm start` replays: realistic `ig run profile_cpu -o json` output from two nodes. */
export const BUNDLED_CAPTURE = new URL('../../examples/profile_cpu-capture.jsonl', import.meta.url).pathname;

/** A capture file as a session's input: connected from the start (readiness), read once. */
export function captureInput(path: string): SessionInput {
  return { kind: 'file', initial: { state: 'connected', detail: `reading ${path}` } };
}

/** The rows of a capture file (`ig run … -o json` output), for one export session. */
export function captureSource(path: string, strict: boolean): (session: SessionParts) => RowSource {
  return (session) =>
    createJsonRowSource({
      input: { kind: 'file', path, follow: false },
      resolveSpec: createSpecResolver([]),
      defaultFetchIntervalNano: DEFAULT_FETCH_INTERVAL_NANO,
      strict,
      logger: session.logger.child('input'),
      counters: session.counters,
    });
}
export const DEFAULT_DEMO_DIR = 'ig-otel-profiles-out';

export const DEMO_FILES_HELP = `Usage: ig-otel-profiles demo --files [--out DIR] [--input FILE] [options]

Runs the whole exporter on a bundled profile_cpu capture (or FILE): IG JSON → aggregation →
OTLP profiles with deduplicated dictionaries → OTLP/JSON file, one gzipped pprof per process and a
summary. Then validates what it wrote and tells you how to look at it. (Without --files, demo
replays into a local serve and opens the page: see ig-otel-profiles demo --help.)

      --out DIR        where to write (default ${DEFAULT_DEMO_DIR}; its demo outputs are replaced)
      --input FILE     replay FILE instead of the bundled capture

${COMMON_HELP}

Examples:
  ig-otel-profiles demo --files
  ig-otel-profiles demo --files --input capture.jsonl --out /tmp/profiles
  ig-otel-profiles demo --files --otel-profiles-exporter pprof     (only the pprof files)`;

/** `demo --files`: today's files and pprof outputs, no server. `argv` is without `--files`. */
export async function demoFiles(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { out: { type: 'string' }, input: { type: 'string' } },
    false,
  );
  if (values.help) {
    ctx.stdout(DEMO_FILES_HELP + '\n');
    return 0;
  }
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const input = resolve((values.input as string | undefined) ?? BUNDLED_CAPTURE);
  if (!existsSync(input)) throw new UsageError(`--input ${input}: no such file`);
  const out = resolve((values.out as string | undefined) ?? DEFAULT_DEMO_DIR);
  const otlpFile = join(out, 'profiles.otlp.jsonl');
  const pprofDir = join(out, 'pprof');
  const prefix = 'operator.otel-profiles.exporters';
  const selection = (values['otel-profiles-exporter'] as string | undefined) ?? 'otlp-file,pprof,summary';
  const sessionValues = { ...values, 'otel-profiles-exporter': selection };
  const demoExporters = [
    `${prefix}.otlp-file.exporter=file`,
    `${prefix}.otlp-file.path=${otlpFile}`,
    `${prefix}.otlp-file.format=json`,
    `${prefix}.pprof.exporter=pprof`,
    `${prefix}.pprof.directory=${pprofDir}`,
    `${prefix}.summary.exporter=debug`,
  ];
  if (values['print-config']) return printConfig(ctx, sessionValues, demoExporters);
  mkdirSync(out, { recursive: true });
  rmSync(otlpFile, { force: true });
  rmSync(pprofDir, { recursive: true, force: true });

  const selected = new Set(selectedExporterNames(parseExporterSelection(selection)));
  const exitCode = await openSession(
    ctx,
    sessionValues,
    captureInput(input),
    captureSource(input, Boolean(values.strict)),
    demoExporters,
  );

  // Check what we wrote with the same rules as `validate`, and point at it.
  const wantOtlp = selected.has('otlp-file');
  const wantPprof = selected.has('pprof');
  let requests = 0;
  let samples = 0;
  let issues = 0;
  if (existsSync(otlpFile)) {
    for await (const line of readOtlpFile(otlpFile, 'json')) {
      const request = fromOtlpJson(line);
      requests++;
      samples += countRequest(request).samples;
      issues += validateRequest(request).length;
    }
  }
  const pprofFiles = existsSync(pprofDir)
    ? readdirSync(pprofDir)
        .filter((f) => f.endsWith('.pb.gz'))
        .sort()
    : [];
  const rel = (p: string): string => relative(process.cwd(), p) || '.';
  const first = pprofFiles[0] ? join(rel(pprofDir), pprofFiles[0]) : undefined;
  ctx.stdout(
    [
      '',
      `Replayed ${rel(input)} through the exporter.`,
      ...(wantOtlp
        ? [
            `  OTLP/JSON requests: ${rel(otlpFile)}  (${requests} request(s), ${samples} sample(s); ` +
              (issues === 0 ? 'every profcheck rule holds)' : `${issues} conformance issue(s)!)`),
          ]
        : []),
      ...(wantPprof
        ? [`  pprof profiles:     ${rel(pprofDir)}/  (${pprofFiles.length} file(s), one per process)`]
        : []),
      '',
      'Look at them:',
      ...(first ? [`  go tool pprof -top ${first}`, `  go tool pprof -http=127.0.0.1:8081 ${first}`] : []),
      ...(wantOtlp ? [`  ig-otel-profiles validate ${rel(otlpFile)}`] : []),
      '',
      'Send the same capture to an OpenTelemetry Collector (started with --feature-gates=service.profilesSupport):',
      `  ig-otel-profiles export --input ${rel(input)} --endpoint http://localhost:4317 --protocol grpc`,
      '',
    ].join('\n'),
  );
  // Nothing written where something was asked for is a failure, like a conformance issue.
  const missing = (wantOtlp && requests === 0) || (wantPprof && pprofFiles.length === 0);
  return issues > 0 || missing ? 1 : exitCode;
}
