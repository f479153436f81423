/**
 * Leveled logger writing one line per event to stderr (stdout may carry data, e.g. `--path -`).
 * Text (for terminals): `<ISO time> <LEVEL> [component] message key=value …`.
 * JSON (`--log-format json`, for log pipelines): one object per line with the keys `time`, `level`,
 * `logger` (the component, absent at the top level), `msg`, then the event's fields; a field
 * named like one of those keys is written as `field.<name>`.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];

export type LogFormat = 'text' | 'json';

export const LOG_FORMATS: readonly LogFormat[] = ['text', 'json'];

const RESERVED_JSON_KEYS = new Set(['time', 'level', 'logger', 'msg']);

const LEVEL_RANK: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export type LogFields = Readonly<Record<string, string | number | bigint | boolean | undefined>>;

export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  isEnabled(level: LogLevel): boolean;
  /** A logger that tags its lines with `[component]`. */
  child(component: string): Logger;
}

export interface LoggerOptions {
  readonly level?: LogLevel;
  /** Where lines go; defaults to process.stderr. */
  readonly write?: (line: string) => void;
  readonly component?: string;
  /** Default text. */
  readonly format?: LogFormat;
}

export function parseLogFormat(value: string): LogFormat | undefined {
  const v = value.trim().toLowerCase();
  return v === 'text' || v === 'json' ? v : undefined;
}

export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.trim().toLowerCase();
  return v === 'error' || v === 'warn' || v === 'info' || v === 'debug' ? v : undefined;
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const s = String(v);
    out += ` ${k}=${/[\s"=]/.test(s) || s === '' ? JSON.stringify(s) : s}`;
  }
  return out;
}

function jsonLine(
  time: string,
  level: LogLevel,
  component: string | undefined,
  message: string,
  fields: LogFields | undefined,
): string {
  const out: Record<string, string | number | boolean> = { time, level };
  if (component) out.logger = component;
  out.msg = message;
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (v === undefined) continue;
    out[RESERVED_JSON_KEYS.has(k) ? `field.${k}` : k] = typeof v === 'bigint' ? v.toString() : v;
  }
  return JSON.stringify(out) + '\n';
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const threshold = LEVEL_RANK[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const json = options.format === 'json';
  const make = (component: string | undefined): Logger => {
    const log = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (LEVEL_RANK[level] > threshold) return;
      const time = new Date().toISOString();
      if (json) {
        write(jsonLine(time, level, component, message, fields));
        return;
      }
      const tag = component ? ` [${component}]` : '';
      write(`${time} ${level.toUpperCase()}${tag} ${message}${formatFields(fields)}\n`);
    };
    return {
      error: (m, f) => log('error', m, f),
      warn: (m, f) => log('warn', m, f),
      info: (m, f) => log('info', m, f),
      debug: (m, f) => log('debug', m, f),
      isEnabled: (level) => LEVEL_RANK[level] <= threshold,
      child: (c) => make(component ? `${component}/${c}` : c),
    };
  };
  return make(options.component);
}

/** Discards everything; for tests and benchmarks. */
export const silentLogger: Logger = createLogger({ level: 'error', write: () => undefined });
