import { readFileSync } from 'node:fs';
import type { Node } from 'yaml';
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { errorCode, errorText } from '../util/error-text.js';
import { isPlainObject } from '../util/plain-object.js';
import { ConfigError } from './config-error.js';
import { substituteEnv } from './env-substitution.js';
import type { SectionField } from './section-schema.js';
import { SECTION_KEYS, SECTION_ROWS } from './section-schema.js';

/**
 * Reads an Inspektor Gadget config file (`~/.ig/config.yaml`, the daemon's `/etc/ig/config.yaml`)
 * and extracts our section, `operator.otel-profiles`. Everything else in the file (other
 * operators, IG's own keys) is ignored, so the same file serves IG and us. String values under
 * our section go through `${VAR}` substitution (env-substitution.ts).
 */

/** Where our section lives in IG's layout. */
export const SECTION_PATH = ['operator', 'otel-profiles'] as const;
export const SECTION_KEY = SECTION_PATH.join('.');

/** What directly under `operator.otel-profiles` is ours: the exporters and the section's keys. */
const KNOWN_SECTION_KEYS = new Set<string>(['exporters', ...SECTION_KEYS]);

/** Exporter names end up in `--set` keys and in `ds:name` selections, so these characters would be ambiguous. */
const EXPORTER_NAME = /^[A-Za-z0-9_-]+$/;

/** Upper bound of YAML alias expansions (guards against alias bombs). */
const MAX_ALIAS_COUNT = 100;

/**
 * The section's keys (section-schema.ts) land in their fields as written (after substitution):
 * section-settings.ts parses them with their row's type, naming `file:line:col`.
 */
export interface ConfigFile extends Partial<Readonly<Record<SectionField, unknown>>> {
  readonly path: string;
  /** `operator.otel-profiles.exporters`: name → raw settings (after substitution), in file order. */
  readonly exporters: ReadonlyMap<string, unknown>;
  /** Non-fatal problems (bad names, unset `${VAR}`s); the loader adds them to its own. */
  readonly problems: readonly string[];
  /** Keys under `operator.otel-profiles` we do not know (warned about, then ignored like IG does). */
  readonly ignoredKeys: readonly string[];
  /**
   * `file:line:col` of the value (or key) at `path` below `operator.otel-profiles`, e.g.
   * `['exporters', 'prod', 'timeout']`; undefined when the path is not in the file.
   */
  locate(path: readonly string[], at?: 'value' | 'key'): string | undefined;
}

/**
 * Reads and parses `path`.
 * @throws ConfigError when the file cannot be read or is not valid YAML.
 */
export function readConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): ConfigFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = errorCode(err);
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : errorText(err);
    throw new ConfigError([`--config ${path}: ${why} (pass the IG config file, e.g. ~/.ig/config.yaml)`]);
  }
  return parseConfigFile(text, path, env);
}

/**
 * Parses config text; `path` only names the file in messages.
 * @throws ConfigError when the text is not valid YAML or our section has the wrong shape.
 */
export function parseConfigFile(
  text: string,
  path: string,
  env: Readonly<Record<string, string | undefined>>,
): ConfigFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  const position = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${path}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        const message = e.message.split(' at line ')[0] ?? e.message;
        return `${pos ? `${path}:${pos.line}:${pos.col}` : path}: invalid YAML: ${message}`;
      }),
    );
  }

  const locateNode = (keys: readonly string[], at: 'value' | 'key' = 'value'): string | undefined => {
    let node: unknown = doc.contents;
    let found: Node | undefined;
    for (const key of keys) {
      if (isSeq(node)) {
        const item = node.items[Number(key)] as Node | undefined;
        if (item === undefined) return undefined;
        found = item;
        node = item;
        continue;
      }
      if (!isMap(node)) return undefined;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
      if (!pair) return undefined;
      found = at === 'key' ? (pair.key as Node) : ((pair.value as Node | null) ?? (pair.key as Node));
      node = pair.value;
    }
    const offset = found?.range?.[0];
    return offset === undefined ? undefined : position(offset);
  };
  const locate = (keys: readonly string[], at: 'value' | 'key' = 'value'): string | undefined =>
    locateNode([...SECTION_PATH, ...keys], at);

  let root: unknown;
  try {
    root = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    throw new ConfigError([`${path}: ${errorText(err)}`]);
  }
  const empty: ConfigFile = { path, exporters: new Map(), problems: [], ignoredKeys: [], locate };
  if (root === null || root === undefined) return empty;
  if (!isPlainObject(root))
    throw new ConfigError([`${path}: expected a YAML mapping at the top (operator: …)`]);
  const operator = root.operator;
  if (operator === undefined || operator === null) return empty;
  if (!isPlainObject(operator))
    throw new ConfigError([`${locateNode(['operator']) ?? path}: operator: expected a mapping`]);
  const section = operator['otel-profiles'];
  if (section === undefined || section === null) return empty;
  if (!isPlainObject(section)) {
    throw new ConfigError([`${locate([]) ?? path}: ${SECTION_KEY}: expected a mapping (exporters: …)`]);
  }

  const problems: string[] = [];
  const where = (keys: readonly string[], at: 'value' | 'key' = 'value'): string => {
    const loc = locate(keys, at);
    return `${loc ? `${loc}: ` : ''}${[SECTION_KEY, ...keys].join('.')}`;
  };
  const substituted = substituteTree(section, [], env, (keys, problem) =>
    problems.push(`${where(keys)}: ${problem}`),
  );
  if (!isPlainObject(substituted)) return empty;

  const exporters = new Map<string, unknown>();
  const rawExporters = substituted.exporters;
  if (rawExporters !== undefined && rawExporters !== null) {
    if (!isPlainObject(rawExporters)) {
      problems.push(`${where(['exporters'])}: expected a mapping of exporter names to settings`);
    } else {
      for (const [name, settings] of Object.entries(rawExporters)) {
        if (!EXPORTER_NAME.test(name)) {
          problems.push(
            `${where(['exporters', name], 'key')}: exporter name "${name}" may only contain letters, digits, "-" and "_" ` +
              `(it is used in --otel-profiles-exporter ds:name and --set keys)`,
          );
          continue;
        }
        exporters.set(name, settings);
      }
    }
  }

  const settings: Partial<Record<SectionField, unknown>> = {};
  for (const row of SECTION_ROWS) {
    const value = substituted[row.key];
    if (value !== undefined && value !== null) settings[row.field] = value;
  }
  const ignoredKeys = Object.keys(substituted)
    .filter((k) => !KNOWN_SECTION_KEYS.has(k))
    .map((k) => `${SECTION_KEY}.${k}`);
  return {
    path,
    exporters,
    ...settings,
    problems,
    ignoredKeys,
    locate,
  };
}

function substituteTree(
  value: unknown,
  keys: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  report: (keys: readonly string[], problem: string) => void,
): unknown {
  if (typeof value === 'string') {
    const result = substituteEnv(value, env);
    if (result.ok) return result.value;
    for (const problem of result.problems) report(keys, problem);
    return value;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteTree(v, [...keys, String(i)], env, report));
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = substituteTree(v, [...keys, k], env, report);
    return out;
  }
  return value;
}
