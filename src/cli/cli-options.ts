import type { ParseArgsConfig } from 'node:util';
import { parseArgs } from 'node:util';
import { durationLimitProblem, parseDurationMs as parseUnits } from '../config/units.js';
import { errorText } from '../util/error-text.js';

/**
 * The flag vocabulary every command shares (`export`, `run`, `attach`, `demo`), so a flag means
 * the same thing everywhere. Gadget flags use IG's names; unknown gadget flags pass through to
 * the gadget as paramValues (run/attach).
 */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'otel-profiles-exporter': { type: 'string' },
  set: { type: 'string', multiple: true },
  endpoint: { type: 'string' },
  protocol: { type: 'string' },
  insecure: { type: 'boolean' },
  header: { type: 'string', multiple: true },
  compression: { type: 'string' },
  timeout: { type: 'string' },
  annotate: { type: 'string', multiple: true },
  strict: { type: 'boolean' },
  'shutdown-timeout': { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  'telemetry-address': { type: 'string' },
  'report-json': { type: 'string' },
  'print-config': { type: 'boolean' },
  'k8s-pod-metadata': { type: 'boolean' },
  'k8s-node-name': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `Exporter options (shared by every command):
  -c, --config FILE                  IG-style YAML config (operator.otel-profiles.exporters.<name>)
      --otel-profiles-exporter SEL   exporter(s) to use: NAME or ds:NAME,ds2:NAME2 (IG's syntax)
      --set KEY=VALUE                override a config key, e.g. operator.otel-profiles.exporters.prod.timeout=5s
      --endpoint URL                 OTLP endpoint of the env-built exporter (like OTEL_EXPORTER_OTLP_ENDPOINT)
      --protocol P                   grpc | http/protobuf | http/json (like OTEL_EXPORTER_OTLP_PROTOCOL)
      --insecure                     plaintext to the endpoint
      --header K=V                   extra request header (repeatable; values are never logged)
      --compression gzip|none        request compression
      --timeout DURATION             per-request timeout (e.g. 10s)
      --annotate DS:KEY=VALUE        IG datasource annotation, e.g. samples:profiles.value-field=samples
      --strict                       fail on the first malformed input instead of skipping and counting it
      --shutdown-timeout DURATION    bound of the end, from a signal or the end of input (default 30s);
                                     a second Ctrl-C/SIGTERM ends it at once (pending data counted as dropped)
      --log-level L                  error | warn | info | debug (default info)
      --log-format F                 text (default) | json: one JSON object per line (time, level, logger, msg, fields)
      --telemetry-address HOST:PORT  serve GET /metrics (Prometheus), /healthz and /readyz there (default: off)
      --report-json FILE             write the final delivery report as JSON
      --print-config                 print the effective configuration (header values redacted) and exit
      --k8s-pod-metadata             watch this node's pods in the Kubernetes API for resource attributes and the
                                     service.name the workload's traces carry (needs get/list/watch on pods)
      --k8s-node-name NAME           the node whose pods to watch (default $NODE_NAME; unset: every node)
  -h, --help                         this help`;

export type CommonValues = {
  -readonly [K in keyof typeof COMMON_OPTIONS]?: (typeof COMMON_OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof COMMON_OPTIONS)[K] extends { type: 'boolean' }
      ? boolean
      : string;
};

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses argv with the common options plus the command's own; argv after `--` is returned apart. */
export function parseCommand<T extends NonNullable<ParseArgsConfig['options']>>(
  argv: readonly string[],
  own: T,
  allowPositionals: boolean,
): {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  rest: string[];
} {
  const dashDash = argv.indexOf('--');
  const head = dashDash === -1 ? [...argv] : argv.slice(0, dashDash);
  const rest = dashDash === -1 ? [] : argv.slice(dashDash + 1);
  try {
    const parsed = parseArgs({
      args: head,
      options: { ...COMMON_OPTIONS, ...own },
      allowPositionals,
      strict: true,
    });
    return { values: parsed.values, positionals: parsed.positionals, rest };
  } catch (err) {
    throw new UsageError(errorText(err));
  }
}

/** Go-style duration (`500ms`, `30s`, `1m30s`) or plain milliseconds, at most MAX_DURATION_MS. */
export function parseDurationMs(value: string, flag: string): number {
  if (value.trim() === '') throw new UsageError(`${flag}: empty duration`);
  const ms = parseUnits(value);
  if (ms === undefined)
    throw new UsageError(`${flag}: "${value}" is not a duration (examples: 500ms, 30s, 1m30s)`);
  const tooLong = durationLimitProblem(ms);
  if (tooLong) throw new UsageError(`${flag}: "${value}" ${tooLong}`);
  return ms;
}
