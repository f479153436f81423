import { existsSync } from 'node:fs';
import { readOtlpFile } from '../exporter/sinks/file-sink.js';
import { decodeExportRequest } from '../profiles/encoding/decode-request.js';
import { fromOtlpJson } from '../profiles/encoding/otlp-json.js';
import type { ExportProfilesServiceRequest } from '../profiles/model/otlp-model.js';
import { countRequest } from '../profiles/model/otlp-model.js';
import { validateRequest } from '../profiles/validation/conformance-validator.js';
import { parseCommand, UsageError } from './cli-options.js';
import type { CommandContext } from './command-context.js';
import { errorText } from '../util/error-text.js';

export const VALIDATE_HELP = `Usage: ig-otel-profiles validate [--format json|proto] FILE…

Checks OTLP profile files (as the file exporter writes them: OTLP/JSON lines, or length-prefixed
protobuf) against every rule of sig-profiling's profcheck (duplicates and orphans included) and
ours: named functions, no stack_index 0, profile.frame.type on every location, timestamps inside
the profile window. Exit status 0 when every request conforms, 1 otherwise.

Options:
      --format json|proto   file format (default: by extension, .pb/.proto/.bin = proto, else json)
  -h, --help                this help

Examples:
  ig-otel-profiles validate ig-otel-profiles-out/profiles.otlp.jsonl
  ig-otel-profiles validate --format proto requests.pb`;

/** Issues printed per file before summarising. */
const MAX_ISSUES_SHOWN = 20;

export async function validateCommand(argv: readonly string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand(argv, { format: { type: 'string' } }, true);
  if (values.help) {
    ctx.stdout(VALIDATE_HELP + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('name at least one OTLP file to validate');
  const forced = values.format as string | undefined;
  if (forced !== undefined && forced !== 'json' && forced !== 'proto')
    throw new UsageError(`--format ${forced}: expected json or proto`);
  let failed = 0;
  for (const path of positionals) {
    if (!existsSync(path)) throw new UsageError(`${path}: no such file`);
    const format = forced ?? (/\.(pb|proto|bin)$/.test(path) ? 'proto' : 'json');
    let requests = 0;
    let samples = 0;
    let issues = 0;
    for await (const item of readOtlpFile(path, format)) {
      requests++;
      let request: ExportProfilesServiceRequest;
      try {
        request = typeof item === 'string' ? fromOtlpJson(item) : decodeExportRequest(item);
      } catch (err) {
        issues++;
        ctx.stdout(`${path}: request ${requests}: cannot decode: ${errorText(err)}\n`);
        continue;
      }
      samples += countRequest(request).samples;
      const found = validateRequest(request);
      for (const issue of found.slice(0, Math.max(0, MAX_ISSUES_SHOWN - issues))) {
        ctx.stdout(`${path}: request ${requests}: ${issue.path}: ${issue.message}\n`);
      }
      issues += found.length;
    }
    ctx.stdout(
      `${path}: ${requests} request(s), ${samples} sample(s): ${issues === 0 ? 'all conform' : `${issues} issue(s)`}\n`,
    );
    if (issues > 0 || requests === 0) failed++;
  }
  return failed === 0 ? 0 : 1;
}
