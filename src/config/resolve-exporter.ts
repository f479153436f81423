import { existsSync } from 'node:fs';
import type { Logger } from '../observability/logger.js';
import type { EndpointOrigin, InsecureSetting } from './endpoint.js';
import {
  DEFAULT_GRPC_ENDPOINT,
  DEFAULT_HTTP_ENDPOINT,
  normaliseGrpcEndpoint,
  normaliseHttpEndpoint,
} from './endpoint.js';
import type { ExporterConfig, ExporterKind } from './exporter-config.js';
import type { DefaultContext, ExporterKeyName } from './exporter-schema.js';
import { defaultFor, EXPORTER_ROWS, exporterRow, isOtlpKind, writeField } from './exporter-schema.js';
import type { Setting, SettingMap } from './exporter-settings.js';
import { describeSetting, exporterPrefix } from './exporter-settings.js';
import { grpcMetadataProblem, httpHeaderProblem } from './header-rules.js';

/**
 * Turns the merged settings of one exporter (defaults included) into its ExporterConfig: each
 * value lands in the field its schema row names, then the rules that involve several keys or the
 * world (endpoint normalisation, headers per protocol, TLS files exist, mTLS pairs, the fields a
 * kind requires, retry interval order) add their problems.
 */

export interface ResolveContext {
  readonly name: string;
  /** Every layer merged, the defaults of `defaults` included (exporter-settings.ts defaultLayer). */
  readonly merged: SettingMap;
  readonly kind: ExporterKind;
  /** What the defaults were computed for (the env-built `default` falls back to the spec's endpoint). */
  readonly defaults: DefaultContext;
  readonly problems: string[];
  readonly logger: Logger;
}

/** Returns the exporter, or undefined after adding its problems to `ctx.problems`. */
export function resolveExporter(ctx: ResolveContext): ExporterConfig | undefined {
  const { name, merged, kind, problems } = ctx;
  const before = problems.length;
  const where = (key: ExporterKeyName): string => {
    const setting = merged.get(key);
    return setting && setting.source.layer !== 'default'
      ? describeSetting(name, key, setting.source)
      : `${exporterPrefix(name)}.${key}`;
  };
  warnIgnoredKeys(ctx);
  const landed = landSettings(name, merged);
  // Only OTLP exporters have an endpoint, and only they can be plaintext.
  const { endpoint: _endpoint, insecure: _insecure, ...config } = landed;
  let resolved: { readonly endpoint?: string; readonly insecure: boolean } = { insecure: false };

  if (isOtlpKind(kind)) {
    resolved = resolveEndpoint(ctx, landed, where);
    const headerProblem = kind === 'otlp-grpc' ? grpcMetadataProblem : httpHeaderProblem;
    for (const [header, value] of Object.entries(config.headers)) {
      const problem = headerProblem(header, value);
      if (problem !== undefined) problems.push(`${where('headers')}: ${problem}`);
    }
    const tlsFiles: readonly (readonly [ExporterKeyName, string | undefined])[] = [
      ['tls.ca_file', config.tls.caFile],
      ['tls.cert_file', config.tls.certFile],
      ['tls.key_file', config.tls.keyFile],
    ];
    for (const [key, path] of tlsFiles) {
      if (path !== undefined && !existsSync(path)) {
        problems.push(
          `${where(key)}: file ${JSON.stringify(path)} does not exist (fix the path, relative to ${process.cwd()}, or remove the setting)`,
        );
      }
    }
    if ((config.tls.certFile === undefined) !== (config.tls.keyFile === undefined)) {
      const missing: ExporterKeyName = config.tls.certFile === undefined ? 'tls.cert_file' : 'tls.key_file';
      const present: ExporterKeyName = missing === 'tls.cert_file' ? 'tls.key_file' : 'tls.cert_file';
      problems.push(
        `${where(present)}: mTLS needs both tls.cert_file and tls.key_file: set ${exporterPrefix(name)}.${missing} too`,
      );
    }
  }
  if (kind === 'file' && config.path === undefined) {
    problems.push(
      `${exporterPrefix(name)}.path: required for the file exporter (a file such as profiles.jsonl, or - for stdout)`,
    );
  }
  if (kind === 'pprof' && config.directory === undefined) {
    problems.push(
      `${exporterPrefix(name)}.directory: required for the pprof exporter (the directory the .pb.gz files go to)`,
    );
  }
  const { retry } = config;
  if (retry.maxIntervalMs < retry.initialIntervalMs) {
    const key: ExporterKeyName =
      merged.get('retry.max_interval')?.source.layer !== 'default'
        ? 'retry.max_interval'
        : 'retry.initial_interval';
    problems.push(
      `${where(key)}: retry.max_interval (${retry.maxIntervalMs} ms) is below retry.initial_interval ` +
        `(${retry.initialIntervalMs} ms): raise retry.max_interval or lower retry.initial_interval`,
    );
  }
  if (problems.length > before) return undefined;
  return { ...config, ...resolved };
}

/** A key set in the file or with --set on a kind that does not use it is ignored, with a warning. */
function warnIgnoredKeys(ctx: ResolveContext): void {
  for (const [key, setting] of ctx.merged) {
    const applies = exporterRow(key)?.appliesTo;
    if (
      applies &&
      !applies.includes(ctx.kind) &&
      (setting.source.layer === 'file' || setting.source.layer === 'set')
    ) {
      const where = describeSetting(ctx.name, key, setting.source);
      ctx.logger.warn(
        `${where} is ignored: ${ctx.kind} exporters do not use it (it applies to ${applies.join(', ')})`,
      );
    }
  }
}

/**
 * Each setting into the field of ExporterConfig its row names. The rows are checked by TypeScript
 * (field exists, value type matches, required fields have defaults, every field has a row: see
 * exporter-schema.ts), and each value is checked at run time by its row's type, so the object
 * built here is an ExporterConfig.
 */
export function landSettings(name: string, merged: SettingMap): ExporterConfig {
  // Nested objects exist even when empty (`tls: {}`).
  const draft: Record<string, unknown> = { name, tls: {} };
  for (const row of EXPORTER_ROWS) {
    const setting = merged.get(row.key);
    if (setting === undefined) continue;
    if (!row.type.is(setting.value)) {
      throw new Error(`internal error: ${row.key} from ${setting.source.label} is not a ${row.type.doc}`);
    }
    writeField(draft, row.field, setting.value);
  }
  return draft as unknown as ExporterConfig;
}

function endpointOrigin(setting: Setting): EndpointOrigin {
  if (setting.source.layer !== 'env') return 'config';
  return setting.source.label.includes('_PROFILES_') ? 'signal-env' : 'generic-env';
}

/** The OTLP endpoint, normalised for its kind, and whether it is plaintext. */
function resolveEndpoint(
  ctx: ResolveContext,
  landed: ExporterConfig,
  where: (key: ExporterKeyName) => string,
): { readonly endpoint?: string; readonly insecure: boolean } {
  const { kind, name, problems } = ctx;
  const setting = ctx.merged.get('endpoint');
  const insecureSetting = ctx.merged.get('insecure');
  const insecureInput: InsecureSetting | undefined =
    insecureSetting && insecureSetting.source.layer !== 'default'
      ? { value: landed.insecure, explicit: insecureSetting.source.layer !== 'env' }
      : undefined;
  let raw = landed.endpoint;
  const givenEmpty =
    raw?.trim() === '' && (setting?.source.layer === 'flag' || setting?.source.layer === 'set');
  const origin: EndpointOrigin = setting ? endpointOrigin(setting) : 'config';
  if (givenEmpty) {
    // Said on purpose, so falling back to localhost would hide the mistake (an unset variable, say).
    problems.push(
      `${where('endpoint')}: the endpoint is empty: give the collector's address ` +
        `(e.g. ${kind === 'otlp-grpc' ? 'collector:4317' : 'http://collector:4318'}), or leave it out for the default ` +
        `${kind === 'otlp-grpc' ? DEFAULT_GRPC_ENDPOINT : DEFAULT_HTTP_ENDPOINT}`,
    );
    return { insecure: false };
  }
  if (raw === undefined || raw.trim() === '') {
    // Only the env-built `default` has one (the spec's endpoint).
    const fallback = defaultFor('endpoint', ctx.defaults);
    raw = typeof fallback === 'string' ? fallback : undefined;
    if (raw === undefined) {
      problems.push(
        `endpoint required for ${kind} exporter (${exporterPrefix(name)}.endpoint: set it in the file, e.g. ` +
          `${kind === 'otlp-grpc' ? '"127.0.0.1:4317"' : '"http://127.0.0.1:4318"'}, or set OTEL_EXPORTER_OTLP_ENDPOINT)`,
      );
      return { insecure: false };
    }
  }
  const result =
    kind === 'otlp-grpc'
      ? normaliseGrpcEndpoint(raw, insecureInput)
      : normaliseHttpEndpoint(raw, origin, insecureInput);
  if (!result.ok) {
    problems.push(`${where('endpoint')}: ${result.problem}`);
    return { insecure: false };
  }
  for (const warning of result.warnings) ctx.logger.warn(`${where('endpoint')}: ${warning}`);
  return { endpoint: result.endpoint, insecure: result.insecure };
}
