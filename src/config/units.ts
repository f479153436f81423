/**
 * Durations and sizes as people write them in YAML, flags and `--set`: Go-style durations
 * (`500ms`, `5s`, `1m30s`, what IG's own config uses) or plain milliseconds, and sizes with
 * binary or decimal units (`4MiB`, `512KiB`, `64MB`) or plain bytes.
 */

/**
 * Longest duration any setting or flag accepts (876000h, 100 years). Timers chain past Node's
 * 24.8-day setTimeout limit, but a deadline must still be a valid date, fit gRPC's `grpc-timeout`
 * header and IG's int64 nanoseconds; anything longer is a typo, refused at start-up.
 */
export const MAX_DURATION_MS = 100 * 8_760 * 3_600_000;

/** Milliseconds per Go duration unit. */
const DURATION_UNITS_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/** Bytes per size unit (case-insensitive; `Ki`/`Mi`/`Gi` as in Kubernetes quantities). */
const SIZE_UNITS: Readonly<Record<string, number>> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  ki: 1024,
  kib: 1024,
  m: 1e6,
  mb: 1e6,
  mi: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1e9,
  gb: 1e9,
  gi: 1024 ** 3,
  gib: 1024 ** 3,
};

const DURATION_PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/;
const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;
const SIZE = /^(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)?$/i;

/**
 * Parses a non-negative duration into milliseconds (rounded). A number, or a string of digits,
 * is milliseconds. Returns undefined when the value is not a duration (negative, empty, unknown
 * unit, `5 s` with a space, …).
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (PLAIN_NUMBER.test(text)) return Math.round(Number(text));
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = DURATION_PART.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * (DURATION_UNITS_MS[m[2] ?? ''] ?? Number.NaN);
    rest = rest.slice(m[0].length);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Why `ms` is refused as a duration (it is too long), or undefined when it is within bounds. */
export function durationLimitProblem(ms: number): string | undefined {
  return ms > MAX_DURATION_MS
    ? `exceeds the longest supported duration, ${formatDuration(MAX_DURATION_MS)} (100 years)`
    : undefined;
}

/**
 * Parses a non-negative size into bytes (floored). A number, or a string of digits, is bytes.
 * Returns undefined when the value is not a size.
 */
export function parseSizeBytes(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.floor(value) : undefined;
  const m = SIZE.exec(value.trim());
  if (!m) return undefined;
  const unit = SIZE_UNITS[(m[2] ?? 'b').toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isFinite(bytes) ? bytes : undefined;
}

/** Milliseconds as the shortest Go-style duration (`90000` → `1m30s`), for printing a config. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 1000 !== 0) return `${ms}ms`;
  let seconds = ms / 1000;
  const h = Math.floor(seconds / 3600);
  seconds -= h * 3600;
  const m = Math.floor(seconds / 60);
  seconds -= m * 60;
  return `${h ? `${h}h` : ''}${m ? `${m}m` : ''}${seconds ? `${seconds}s` : ''}`;
}

/** Bytes with the largest exact binary unit (`4194304` → `4MiB`), for printing a config. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['GiB', 1024 ** 3],
    ['MiB', 1024 ** 2],
    ['KiB', 1024],
  ] as const) {
    if (bytes >= factor && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return String(bytes);
}
