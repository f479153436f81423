import type { Logger } from '../observability/logger.js';
import type { ConfigFile } from './config-file.js';
import { SECTION_KEY } from './config-file.js';
import type { SectionField, SectionFlags, SectionKeyRow, SectionSettings } from './section-schema.js';
import { SECTION_ROWS } from './section-schema.js';

/**
 * The values of the section's keys (section-schema.ts), each from its flag, then `--set`, then its
 * environment variable, then the file, then its default. Every value given in the file, by
 * `--set` or by a flag is checked with the key's type, even when a higher source overrides it (as
 * an exporter's keys are); the environment variable is read only when neither the flag nor `--set`
 * gives the key. A bad value is a problem naming where it came from.
 */

type Env = Readonly<Record<string, string | undefined>>;

export interface SectionSources {
  readonly flags: SectionFlags;
  /** `--set operator.otel-profiles.<key>=TEXT` (set-flags.ts), the last one per key. */
  readonly set: ReadonlyMap<string, string>;
  readonly env: Env;
  readonly file: ConfigFile | undefined;
  readonly logger: Logger;
  readonly problems: string[];
}

export interface ResolvedSection {
  readonly settings: SectionSettings;
  /** The keys some source gave (even with a bad value); the others are at their default. */
  readonly given: ReadonlySet<SectionField>;
}

/** Every key of the section, in row order. */
export function resolveSectionSettings(s: SectionSources): ResolvedSection {
  const settings: Partial<Record<SectionField, unknown>> = {};
  const given = new Set<SectionField>();
  for (const row of SECTION_ROWS) {
    const value = resolveKey(row, s);
    if (value.given) given.add(row.field);
    const resolved = value.given ? value.value : row.default;
    if (resolved !== undefined) settings[row.field] = resolved;
  }
  // Each field was produced by its row's type, which TypeScript checked against the field.
  return { settings: settings as unknown as SectionSettings, given };
}

type Candidate = { readonly given: false } | { readonly given: true; readonly value: unknown };

function resolveKey(row: SectionKeyRow, s: SectionSources): Candidate {
  const checked = (raw: unknown, where: () => string): Candidate => {
    if (raw === undefined) return { given: false };
    const parsed = row.type.parse(raw);
    if (parsed.ok) return { given: true, value: parsed.value };
    s.problems.push(`${where()}: ${parsed.problem}`);
    return { given: true, value: undefined };
  };
  const flag = checked(row.flag ? s.flags[row.flag.field] : undefined, () => row.flag?.name ?? '');
  const set = checked(s.set.get(row.key), () => `--set ${SECTION_KEY}.${row.key}`);
  const file = checked(
    s.file?.[row.field],
    () => `${s.file?.locate([row.key]) ?? s.file?.path ?? 'config file'}: ${SECTION_KEY}.${row.key}`,
  );
  if (flag.given) return flag;
  if (set.given) return set;
  const env = fromEnv(row, s);
  return env.given ? env : file;
}

function fromEnv(row: SectionKeyRow, s: SectionSources): Candidate {
  if (!row.env) return { given: false };
  const { variable, aliases, invalid = 'error' } = row.env;
  const text = s.env[variable];
  const trimmed = text?.trim();
  if (text === undefined || !trimmed) return { given: false };
  const spelling = trimmed.toLowerCase();
  if (aliases && Object.hasOwn(aliases, spelling)) return { given: true, value: aliases[spelling] };
  const parsed = row.type.parse(text);
  if (parsed.ok) return { given: true, value: parsed.value };
  if (invalid === 'warn') {
    s.logger.warn(`${variable}=${JSON.stringify(trimmed)} ignored: ${parsed.problem}`);
    return { given: false };
  }
  s.problems.push(`${variable}: ${parsed.problem}`);
  return { given: true, value: undefined };
}
