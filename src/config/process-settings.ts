import type { Logger, LogFormat, LogLevel } from '../observability/logger.js';
import { parseLogFormat, parseLogLevel } from '../observability/logger.js';
import type { ConfigFile } from './config-file.js';
import {
  K8S_POD_METADATA_KEY,
  LOG_FORMAT_KEY,
  LOG_LEVEL_KEY,
  SECTION_KEY,
  TELEMETRY_ADDRESS_KEY,
} from './config-file.js';
import type { SetFlags } from './set-flags.js';
import type { TelemetryAddress } from './telemetry-address.js';
import { parseTelemetryAddress } from './telemetry-address.js';

/**
 * The process-level keys of our section (not an exporter's): log level, log format, the
 * self-telemetry address and pod metadata. Each comes from its flag, then `--set`, then its
 * environment variable, then the file.
 */

/** Environment variables of the process-level settings (the config keys of the same names). */
export const LOG_FORMAT_ENV = 'IG_OTEL_PROFILES_LOG_FORMAT';
export const TELEMETRY_ADDRESS_ENV = 'IG_OTEL_PROFILES_TELEMETRY_ADDRESS';
export const LOG_LEVEL_ENV = 'OTEL_LOG_LEVEL';

type Env = Readonly<Record<string, string | undefined>>;

/** The flags of the process-level settings (the CLI checked their syntax). */
export interface ProcessFlags {
  readonly logLevel?: LogLevel;
  /** `--k8s-pod-metadata`. */
  readonly k8sPodMetadata?: boolean;
  /** `--log-format`. */
  readonly logFormat?: LogFormat;
  /** `--telemetry-address HOST:PORT`, as typed. */
  readonly telemetryAddress?: string;
}

export interface ProcessSources {
  readonly flags: ProcessFlags;
  readonly setFlags: SetFlags;
  readonly env: Env;
  readonly file: ConfigFile | undefined;
  readonly logger: Logger;
  readonly problems: string[];
}

export interface ProcessSettings {
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  readonly telemetryAddress?: TelemetryAddress;
}

/** Watch this node's pods for resource attributes: flag > --set > file > off. */
export function resolvePodMetadata(s: ProcessSources): boolean {
  const { flags, setFlags, file, problems } = s;
  let setPodMetadata: boolean | undefined;
  if (setFlags.k8sPodMetadata !== undefined) {
    if (setFlags.k8sPodMetadata === 'true' || setFlags.k8sPodMetadata === 'false')
      setPodMetadata = setFlags.k8sPodMetadata === 'true';
    else
      problems.push(
        `--set ${SECTION_KEY}.${K8S_POD_METADATA_KEY}=${setFlags.k8sPodMetadata}: expected true or false`,
      );
  }
  return flags.k8sPodMetadata ?? setPodMetadata ?? file?.k8sPodMetadata ?? false;
}

/** Log level, log format and the telemetry address. */
export function resolveProcessSettings(s: ProcessSources): ProcessSettings {
  const { flags, setFlags, env, file, logger, problems } = s;
  const levelText = setFlags.logLevel;
  let setLevel: LogLevel | undefined;
  if (levelText !== undefined) {
    setLevel = parseLogLevel(levelText);
    if (setLevel === undefined)
      problems.push(
        `--set ${SECTION_KEY}.${LOG_LEVEL_KEY}=${levelText}: expected error, warn, info or debug`,
      );
  }
  let fileLevel: LogLevel | undefined;
  if (file?.logLevel !== undefined) {
    fileLevel = parseLogLevel(file.logLevel);
    if (fileLevel === undefined) {
      problems.push(
        `${file.locate([LOG_LEVEL_KEY]) ?? file.path}: ${SECTION_KEY}.${LOG_LEVEL_KEY}: ${JSON.stringify(file.logLevel)} is not valid (one of: error, warn, info, debug)`,
      );
    }
  }
  const logLevel = flags.logLevel ?? setLevel ?? logLevelFromEnv(env, logger) ?? fileLevel ?? 'info';
  const logFormat =
    processSetting({
      key: LOG_FORMAT_KEY,
      envName: LOG_FORMAT_ENV,
      flag: flags.logFormat,
      set: setFlags.logFormat,
      env,
      file,
      fileValue: file?.logFormat,
      parse: (text) => {
        const format = parseLogFormat(text);
        return format !== undefined
          ? { value: format }
          : { problem: `${JSON.stringify(text)} is not valid (one of: text, json)` };
      },
      problems,
    }) ?? 'text';
  const telemetryAddress = processSetting({
    key: TELEMETRY_ADDRESS_KEY,
    envName: TELEMETRY_ADDRESS_ENV,
    flag: flags.telemetryAddress,
    set: setFlags.telemetryAddress,
    env,
    file,
    fileValue: file?.telemetryAddress,
    parse: (text) => {
      const address = parseTelemetryAddress(text);
      return typeof address === 'string' ? { problem: address } : { value: address };
    },
    problems,
  });

  return { logLevel, logFormat, ...(telemetryAddress !== undefined ? { telemetryAddress } : {}) };
}

/**
 * A process-level setting of our section (not an exporter's): the flag, then `--set`, then its
 * environment variable, then the file. A bad value is a problem naming where it came from.
 */
function processSetting<T>(s: {
  readonly key: string;
  readonly envName: string;
  readonly flag: string | undefined;
  readonly set: string | undefined;
  readonly env: Env;
  readonly file: ConfigFile | undefined;
  readonly fileValue: string | undefined;
  readonly parse: (text: string) => { readonly value: T } | { readonly problem: string };
  readonly problems: string[];
}): T | undefined {
  const envText = s.env[s.envName]?.trim() ? s.env[s.envName] : undefined;
  const candidates: readonly [string | undefined, () => string][] = [
    [s.flag, () => `--${s.key}`],
    [s.set, () => `--set ${SECTION_KEY}.${s.key}`],
    [envText, () => s.envName],
    [
      s.fileValue,
      () => `${s.file?.locate([s.key]) ?? s.file?.path ?? 'config file'}: ${SECTION_KEY}.${s.key}`,
    ],
  ];
  for (const [text, where] of candidates) {
    if (text === undefined) continue;
    const parsed = s.parse(text);
    if ('problem' in parsed) {
      s.problems.push(`${where()}: ${parsed.problem}`);
      return undefined;
    }
    return parsed.value;
  }
  return undefined;
}

/** OTEL_LOG_LEVEL as our level (`verbose`/`all` → debug, `none` → error). */
function logLevelFromEnv(env: Env, logger: Logger): LogLevel | undefined {
  const text = env[LOG_LEVEL_ENV]?.trim().toLowerCase();
  if (!text) return undefined;
  if (text === 'verbose' || text === 'all') return 'debug';
  if (text === 'none') return 'error';
  const level = parseLogLevel(text);
  if (level === undefined)
    logger.warn(`${LOG_LEVEL_ENV}=${JSON.stringify(text)} ignored: expected error, warn, info or debug`);
  return level;
}
