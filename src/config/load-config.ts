import type { Logger } from '../observability/logger.js';
import { isPlainObject } from '../util/plain-object.js';
import { ConfigError, didYouMean } from './config-error.js';
import type { ConfigFile } from './config-file.js';
import { readConfigFile } from './config-file.js';
import type { OtlpEnv, ResourceEnv } from './env-config.js';
import { READ_ENV_VARIABLES, readOtlpEnv, readResourceEnv } from './env-config.js';
import type { ExporterConfig, ExporterKind } from './exporter-config.js';
import type { DirectFlags, FlagLayer } from './exporter-layers.js';
import {
  envLayer,
  fileLayer,
  flagLayer,
  kindOfProtocol,
  protocolFlagLayer,
  resourceEnvLayer,
} from './exporter-layers.js';
import { EXPORTER_KINDS, isOtlpKind } from './exporter-schema.js';
import type { ExporterSelection } from './exporter-selection.js';
import { selectedExporterNames } from './exporter-selection.js';
import type { SettingMap } from './exporter-settings.js';
import {
  defaultLayer,
  describeSetting,
  emptyLayer,
  exporterPrefix,
  mergeLayers,
} from './exporter-settings.js';
import { resolveExporter } from './resolve-exporter.js';
import type { SectionFlags, SectionSettings } from './section-schema.js';
import { SECTION_ENV_VARIABLES, SECTION_KEYS } from './section-schema.js';
import { resolveSectionSettings } from './section-settings.js';
import type { SetFlags } from './set-flags.js';
import { parseSetFlags } from './set-flags.js';
import { durationLimitProblem } from './units.js';

export {
  DEFAULT_BATCH,
  DEFAULT_QUEUE,
  DEFAULT_RESOURCE,
  DEFAULT_SAMPLES,
  DEFAULT_TIMEOUT_MS,
} from './exporter-defaults.js';
export { K8S_POD_METADATA_SERVICE_NAME } from './exporter-schema.js';

/**
 * The one place where the configuration is assembled. Precedence, lowest to highest:
 *
 *   defaults < config file < OTEL_* environment < flags (--endpoint, --header, …) < --set
 *
 * - The file is IG's (`operator.otel-profiles.exporters.<name>`); see config-file.ts.
 * - The OTEL_EXPORTER_OTLP_* environment applies to every OTLP exporter (otlp-grpc, otlp-http).
 * - The exporter named `default` is used when no selection is given. If the file does not define
 *   it, it is built from the environment alone; the direct flags (--endpoint, --protocol,
 *   --insecure, --header, --compression, --timeout) configure this exporter only.
 * - `--set operator.otel-profiles.exporters.NAME.KEY=VALUE` overrides any key of any exporter.
 *
 * The exporter keys, their types and defaults are the rows of exporter-schema.ts; each layer has
 * its builder (exporter-settings.ts defaultLayer, exporter-layers.ts, set-flags.ts) and
 * `buildExporter` below merges them in this order. The section's own keys (log level and format,
 * the selection, …) are the rows of section-schema.ts, resolved by section-settings.ts.
 *
 * Every problem is collected and thrown as one ConfigError.
 */

/** Name of the exporter used without `--otel-profiles-exporter`, built from the environment. */
export const DEFAULT_EXPORTER_NAME = 'default';

/** Everything the command line contributes; the CLI fills it from its flags. */
export interface ConfigFlags extends DirectFlags, SectionFlags {
  /** `--set operator.otel-profiles.exporters.NAME.KEY=VALUE` (also `operator.otel-profiles.log-level=…`), highest precedence. */
  readonly set?: readonly string[];
}

export interface LoadConfigInput {
  readonly configFile?: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly flags: ConfigFlags;
  readonly logger: Logger;
}

/** The section's keys (selection, log level and format, pod metadata, telemetry address), then the rest. */
export interface LoadedConfig extends SectionSettings {
  /** The exporters this run uses: those the selection names, resolved and validated, in selection order. */
  readonly exporters: ReadonlyMap<string, ExporterConfig>;
  /** OTEL_SERVICE_NAME (the `env` source of the service.name chain). */
  readonly serviceNameFromEnv?: string;
  /** OTEL_RESOURCE_ATTRIBUTES, decoded (also merged into every exporter's resource.attributes). */
  readonly resourceAttributesFromEnv: Readonly<Record<string, string>>;
  /** What was read, in precedence order, for --print-config; never contains header values. */
  readonly sources: readonly string[];
  /** Every exporter the configuration defines (file and --set), plus `default`; all were validated. */
  readonly configured: readonly string[];
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Loads, merges and validates the configuration.
 * @throws ConfigError listing every problem found (file, env TLS paths, flags, selection, exporters).
 */
export function loadConfig(input: LoadConfigInput): LoadedConfig {
  const { env, flags, logger } = input;
  const problems: string[] = [];

  const file = readFile(input.configFile, env, logger, problems);
  const setFlags = parseSetFlags(flags.set ?? [], problems);
  const direct = flagLayer(flags, problems);
  const sources = describeSources(file, env, flags, direct);
  if (flags.exporterSelection !== undefined)
    sources.push(`--otel-profiles-exporter ${flags.exporterSelection}`);
  const section = resolveSectionSettings({ flags, set: setFlags.section, env, file, logger, problems });
  const { selection, k8sPodMetadata } = section.settings;
  const names = exporterNames(file, setFlags, selection, section.given.has('selection'), logger);
  checkSelection(names, selection, file, direct, problems);

  const otlpEnv = readOtlpEnv(env, logger);
  const resourceEnv = readResourceEnv(env, logger);
  const build: BuildContext = {
    file,
    setFlags,
    setItems: flags.set ?? [],
    direct,
    otlpEnv,
    resourceEnv,
    k8sPodMetadata,
    selected: names.selected,
    env,
    logger,
    problems,
    reportEnvTimeout: envTimeoutReporter(otlpEnv, env, problems),
  };
  const resolved = new Map<string, ExporterConfig>();
  for (const name of names.toResolve) {
    const exporter = buildExporter(name, build);
    if (exporter) resolved.set(name, exporter);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  const exporters = new Map<string, ExporterConfig>();
  for (const name of names.selected) {
    const exporter = resolved.get(name);
    if (exporter) exporters.set(name, exporter);
  }
  return {
    ...section.settings,
    exporters,
    ...(resourceEnv.serviceName !== undefined ? { serviceNameFromEnv: resourceEnv.serviceName } : {}),
    resourceAttributesFromEnv: resourceEnv.attributes,
    sources,
    configured: names.configured,
  };
}

function readFile(
  path: string | undefined,
  env: Env,
  logger: Logger,
  problems: string[],
): ConfigFile | undefined {
  if (path === undefined) return undefined;
  const file = readConfigFile(path, env);
  problems.push(...file.problems);
  for (const key of file.ignoredKeys) {
    const name = key.split('.').pop() ?? '';
    logger.warn(
      `${file.locate([name], 'key') ?? file.path}: ${key} is not ours: ignored${didYouMean(name, SECTION_KEYS)}`,
    );
  }
  return file;
}

/** What was read, in precedence order (the selection flag is added once it parsed). */
function describeSources(
  file: ConfigFile | undefined,
  env: Env,
  flags: ConfigFlags,
  direct: FlagLayer,
): string[] {
  const sources = ['defaults'];
  if (file) sources.push(`file ${file.path}`);
  for (const name of [...READ_ENV_VARIABLES, ...SECTION_ENV_VARIABLES])
    if (env[name]?.trim()) sources.push(`env ${name}`);
  sources.push(...direct.given);
  for (const item of flags.set ?? []) sources.push(`--set ${item.split('=')[0] ?? item}`);
  return sources;
}

interface ExporterNames {
  /** The exporters the selection names, in selection order. */
  readonly selected: readonly string[];
  /** Every exporter the configuration defines (file and --set), plus `default`. */
  readonly configured: readonly string[];
  /** What is built and validated: every defined exporter, and `default` when selected. */
  readonly toResolve: readonly string[];
}

function exporterNames(
  file: ConfigFile | undefined,
  setFlags: SetFlags,
  selection: ExporterSelection,
  selectionGiven: boolean,
  logger: Logger,
): ExporterNames {
  const selected = selectedExporterNames(selection);
  if (!selectionGiven && file && file.exporters.size > 0 && !file.exporters.has(DEFAULT_EXPORTER_NAME)) {
    logger.info(
      `${file.path} defines ${[...file.exporters.keys()].join(', ')} but no exporter is selected: using "${DEFAULT_EXPORTER_NAME}" ` +
        `(built from OTEL_EXPORTER_OTLP_*); select one with --otel-profiles-exporter ${[...file.exporters.keys()][0] ?? 'NAME'}`,
    );
  }
  const defined: string[] = [...(file?.exporters.keys() ?? [])];
  for (const name of setFlags.exporters.keys()) if (!defined.includes(name)) defined.push(name);
  const configured = defined.includes(DEFAULT_EXPORTER_NAME) ? defined : [...defined, DEFAULT_EXPORTER_NAME];
  const toResolve =
    !defined.includes(DEFAULT_EXPORTER_NAME) && selected.includes(DEFAULT_EXPORTER_NAME)
      ? [...defined, DEFAULT_EXPORTER_NAME]
      : defined;
  return { selected, configured, toResolve };
}

/** Every selected exporter is configured, and the direct flags configure one that is used. */
function checkSelection(
  names: ExporterNames,
  selection: ExporterSelection,
  file: ConfigFile | undefined,
  direct: FlagLayer,
  problems: string[],
): void {
  const { selected, configured } = names;
  for (const name of selected) {
    if (configured.includes(name)) continue;
    const where = file
      ? file.path
      : `a config file passed with --config, or with --set ${exporterPrefix(name)}.exporter=KIND (${EXPORTER_KINDS.join(' | ')})`;
    problems.push(
      `exporter "${name}" is not configured: define ${exporterPrefix(name)} in ${where}` +
        ` (configured: ${configured.join(', ')})${didYouMean(name, configured)}`,
    );
  }
  if (direct.given.length > 0 && !selected.includes(DEFAULT_EXPORTER_NAME)) {
    const target = selected[0] ?? 'NAME';
    problems.push(
      `${direct.given.join(', ')} ${direct.given.length === 1 ? 'configures' : 'configure'} the exporter "${DEFAULT_EXPORTER_NAME}" (built from OTEL_EXPORTER_OTLP_* and these flags), ` +
        `which the selection ${JSON.stringify(selection.text)} does not use: select it, or set the exporter you use with ` +
        `--set ${exporterPrefix(target)}.KEY=VALUE`,
    );
  }
}

interface BuildContext {
  readonly file: ConfigFile | undefined;
  readonly setFlags: SetFlags;
  /** The `--set` items as given (to tell a missing `exporter` key from a bad one). */
  readonly setItems: readonly string[];
  readonly direct: FlagLayer;
  readonly otlpEnv: OtlpEnv;
  readonly resourceEnv: ResourceEnv;
  readonly k8sPodMetadata: boolean;
  readonly selected: readonly string[];
  readonly env: Env;
  readonly logger: Logger;
  readonly problems: string[];
  /** Adds the OTEL_EXPORTER_OTLP_TIMEOUT problem on the first OTLP exporter, so it is not repeated. */
  readonly reportEnvTimeout: () => void;
}

/**
 * One exporter: its kind, then its layers merged in precedence order (the one place where the
 * order is written), then resolved and validated.
 */
function buildExporter(name: string, ctx: BuildContext): ExporterConfig | undefined {
  const isDefault = name === DEFAULT_EXPORTER_NAME;
  const file = fileLayer(ctx.file, name, ctx.problems);
  const set = ctx.setFlags.exporters.get(name) ?? emptyLayer();
  const choice = chooseKind(name, file, set, ctx);
  if (!choice) return undefined;
  const { kind, envBuilt } = choice;
  const env = isOtlpKind(kind) ? envLayer(ctx.otlpEnv, kind) : emptyLayer();
  if (isOtlpKind(kind)) ctx.reportEnvTimeout();
  if (isOtlpKind(kind) && !envBuilt && ctx.otlpEnv.protocol?.value === 'grpc' && kind === 'otlp-http') {
    ctx.logger.debug(
      `${ctx.otlpEnv.protocol.variable}=grpc does not change exporter "${name}" (its kind is ${kind} in the file)`,
    );
  }
  if (ctx.selected.includes(name)) {
    for (const [key, setting] of env) {
      const overridden = file.get(key);
      if (overridden)
        ctx.logger.info(`${setting.source.label} overrides ${describeSetting(name, key, overridden.source)}`);
    }
  }
  const defaults = { kind, envBuilt, k8sPodMetadata: ctx.k8sPodMetadata };
  const merged = mergeLayers([
    defaultLayer(defaults),
    file,
    env,
    resourceEnvLayer(ctx.resourceEnv.attributes),
    ...(isDefault ? [ctx.direct.map, protocolFlagLayer(ctx.direct.protocol, kind)] : []),
    set,
  ]);
  return resolveExporter({ name, merged, kind, defaults, problems: ctx.problems, logger: ctx.logger });
}

/**
 * The kind of an exporter: its `exporter` key (--set over the file); for `default` without one,
 * from --protocol or OTEL_EXPORTER_OTLP_PROTOCOL (`envBuilt`). Undefined after a problem.
 */
function chooseKind(
  name: string,
  file: SettingMap,
  set: SettingMap,
  ctx: BuildContext,
): { readonly kind: ExporterKind; readonly envBuilt: boolean } | undefined {
  const { direct, problems } = ctx;
  const isDefault = name === DEFAULT_EXPORTER_NAME;
  const declared = set.get('exporter') ?? file.get('exporter');
  const kind = EXPORTER_KINDS.find((k) => k === declared?.value);
  if (declared && kind) {
    if (isDefault && direct.protocol && kindOfProtocol(direct.protocol) !== kind) {
      problems.push(
        `--protocol ${direct.protocol} contradicts ${describeSetting(name, 'exporter', declared.source)}: ${kind} ` +
          `(drop --protocol, or change the exporter kind)`,
      );
      return undefined;
    }
    return { kind, envBuilt: false };
  }
  if (isDefault) {
    const protocol = direct.protocol ?? ctx.otlpEnv.protocol?.value ?? 'http/protobuf';
    return { kind: kindOfProtocol(protocol), envBuilt: true };
  }
  // An invalid `exporter:` value was already reported by the layer parser.
  const rawFile = ctx.file?.exporters.get(name);
  const attempted =
    (isPlainObject(rawFile) && rawFile.exporter !== undefined && rawFile.exporter !== null) ||
    ctx.setItems.some((item) => item.startsWith(`${exporterPrefix(name)}.exporter=`));
  if (!attempted) {
    const loc = ctx.file?.locate(['exporters', name], 'key');
    problems.push(
      `${loc ? `${loc}: ` : ''}${exporterPrefix(name)}.exporter: required (one of: ${EXPORTER_KINDS.join(', ')})`,
    );
  }
  return undefined;
}

function envTimeoutReporter(otlpEnv: OtlpEnv, env: Env, problems: string[]): () => void {
  // Checked once, not per exporter built from it, so the message is not repeated.
  const tooLong = otlpEnv.timeoutMs !== undefined ? durationLimitProblem(otlpEnv.timeoutMs.value) : undefined;
  let reported = false;
  return () => {
    if (reported || tooLong === undefined || !otlpEnv.timeoutMs) return;
    reported = true;
    const { variable } = otlpEnv.timeoutMs;
    problems.push(
      `${variable}=${env[variable] ?? ''}: ${tooLong} (the value is milliseconds, e.g. 10000; 0 = no limit)`,
    );
  };
}
