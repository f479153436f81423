import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { formatSize, parseSizeBytes } from '../config/units.js';
import { MAX_LINE_BYTES_LIMIT } from '../gadget-bridge/json/json-framer.js';
import { createJsonRowSource } from '../gadget-bridge/json/json-row-source.js';
import type { JsonInput } from '../gadget-bridge/json/json-row-source.js';
import {
  createSpecResolver,
  DEFAULT_FETCH_INTERVAL_NANO,
  parseAnnotations,
  presetForGadget,
  PRESET_GADGETS,
} from '../gadget-bridge/profile-presets.js';
import { COMMON_HELP, parseCommand, parseDurationMs, UsageError } from './cli-options.js';
import type { CommandContext } from './command-context.js';
import { openSession, printConfig } from './command-context.js';

export const EXPORT_HELP = `Usage: ig-otel-profiles export [options] [--input FILE | -- COMMAND [ARGS…]]

Reads Inspektor Gadget JSON output and exports it as OTLP profiles (or files, pprof).
Accepts \`ig run … -o json\` and \`-o jsonpretty\`, \`kubectl gadget run … -o json\` and the IG daemon's
\`logs\` operator envelope, from stdin, a file (optionally followed across rotation) or a child process.

Input options:
      --input FILE          read FILE instead of stdin (a file is replayed on a timeline ending now)
      --follow              follow FILE as it grows, across rotation (the logs operator's file channel)
      --checkpoint PATH     with --follow: remember in PATH how far FILE was exported; a restart resumes
                            there (also in a file rotated away meanwhile) instead of exporting FILE again
      --gadget NAME         gadget that produced the input when it cannot be recognised (profile_cpu, profile_cuda)
      --fetch-interval D    the gadget's map-fetch-interval (default 1s; 0 = one fetch at stop)
      --max-line-size SIZE  longest input line read (default 256MiB, at most 500MiB); a longer line is
                            skipped, reported with its line and byte offset, and counted
  -- COMMAND [ARGS…]         run COMMAND and read its stdout; its stderr goes to our log

${COMMON_HELP}

Examples:
  ig run profile_cpu --collect-ustack -o json | ig-otel-profiles export --endpoint http://localhost:4317 --protocol grpc
  ig-otel-profiles export --config ig.yaml --otel-profiles-exporter samples:pyroscope -- ig run profile_cpu -o json
  kubectl gadget run profile_cpu -A -o json | ig-otel-profiles export --otel-profiles-exporter files -c config.yaml
  ig-otel-profiles export --follow --input /var/log/ig/gadget-data.log -c config.yaml \\
      --checkpoint /var/lib/ig-otel-profiles/gadget-data.checkpoint

Exit status: 0 everything delivered; 1 fatal error; 2 usage or configuration error;
3 finished, but some data was dropped or is still pending in a persistent queue (see the report).`;

export async function exportCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals, rest } = parseCommand(
    argv,
    {
      input: { type: 'string', short: 'i' },
      follow: { type: 'boolean' },
      checkpoint: { type: 'string' },
      gadget: { type: 'string' },
      'fetch-interval': { type: 'string' },
      'max-line-size': { type: 'string' },
    },
    true,
  );
  if (values.help) {
    ctx.stdout(EXPORT_HELP + '\n');
    return 0;
  }
  if (values['print-config']) return printConfig(ctx, values);
  if (positionals.length)
    throw new UsageError(
      `unexpected argument "${positionals[0]}": to read a file use --input ${positionals[0]}; a command to run goes after --`,
    );
  const inputPath = values.input as string | undefined;
  if (inputPath !== undefined && rest.length)
    throw new UsageError('use either --input FILE or -- COMMAND, not both');
  if (values.follow && inputPath === undefined) throw new UsageError('--follow needs --input FILE');
  const checkpoint = values.checkpoint as string | undefined;
  if (checkpoint !== undefined && !values.follow)
    throw new UsageError('--checkpoint needs --follow --input FILE (only a followed file is resumed)');
  if (inputPath !== undefined && inputPath !== '-' && !existsSync(inputPath) && !values.follow) {
    throw new UsageError(`--input ${inputPath}: no such file`);
  }

  const input: JsonInput =
    rest.length > 0
      ? { kind: 'command', argv: rest }
      : inputPath !== undefined && inputPath !== '-'
        ? { kind: 'file', path: resolve(inputPath), follow: Boolean(values.follow) }
        : { kind: 'stdin' };
  const fetchIntervalNano =
    values['fetch-interval'] !== undefined
      ? BigInt(parseDurationMs(values['fetch-interval'] as string, '--fetch-interval')) * 1_000_000n
      : undefined;
  const maxLineBytes =
    values['max-line-size'] !== undefined ? parseMaxLineSize(values['max-line-size'] as string) : undefined;
  const gadget = values.gadget as string | undefined;
  const annotations = parseAnnotations((values.annotate as string[] | undefined) ?? []);
  if (gadget !== undefined && presetForGadget(gadget) === undefined && annotations.length === 0) {
    // Rows would then be recognised by shape or not at all: --gadget would silently mean nothing.
    throw new UsageError(
      `--gadget ${gadget}: no built-in mapping for this gadget (known: ${PRESET_GADGETS.join(', ')}, or an image ` +
        `of one such as ghcr.io/inspektor-gadget/gadget/profile_cpu:latest); describe another gadget's datasource with ` +
        `--annotate, e.g. --annotate samples:profiles.stack-fields=ustack --annotate samples:profiles.value-field=count`,
    );
  }
  const resolveSpec = createSpecResolver(annotations, {
    ...(gadget !== undefined ? { gadget } : {}),
    ...(fetchIntervalNano !== undefined ? { fetchIntervalNano } : {}),
  });

  return openSession(ctx, values, (session) =>
    createJsonRowSource({
      input,
      resolveSpec,
      defaultFetchIntervalNano: fetchIntervalNano ?? DEFAULT_FETCH_INTERVAL_NANO,
      strict: Boolean(values.strict),
      ...(maxLineBytes !== undefined ? { maxLineBytes } : {}),
      logger: session.logger.child('input'),
      counters: session.counters,
      ...(ctx.stdin ? { stdin: ctx.stdin } : {}),
      ...(checkpoint !== undefined ? { checkpoint: resolve(checkpoint) } : {}),
    }),
  );
}

/** `--max-line-size`: a size up to MAX_LINE_BYTES_LIMIT (V8 cannot hold a longer line as one string). */
function parseMaxLineSize(text: string): number {
  const bytes = parseSizeBytes(text);
  if (bytes === undefined || bytes < 1)
    throw new UsageError(
      `--max-line-size ${JSON.stringify(text)}: expected a size such as 64MiB or 1048576 (bytes)`,
    );
  if (bytes > MAX_LINE_BYTES_LIMIT)
    throw new UsageError(
      `--max-line-size ${text}: at most ${formatSize(MAX_LINE_BYTES_LIMIT)} (longer lines cannot be held as one string)`,
    );
  return bytes;
}
