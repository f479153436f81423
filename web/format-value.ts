import type { ProfileTypeInfo } from './api-types.js';

/** How a profile type's values read: `samples/count` with a CPU period also as time. */
export interface ValueUnit {
  readonly type: string;
  readonly unit: string;
  /** Nanoseconds one count stands for (count × period = time), when the period is a time. */
  readonly periodNs?: number;
}

const NS_PER: Record<string, number> = {
  nanoseconds: 1,
  ns: 1,
  microseconds: 1e3,
  us: 1e3,
  milliseconds: 1e6,
  ms: 1e6,
  seconds: 1e9,
  s: 1e9,
};

export function valueUnit(info: ProfileTypeInfo | undefined, fallbackType?: string): ValueUnit {
  if (!info) {
    const [type = 'value', unit = ''] = (fallbackType ?? '').split('/');
    return { type, unit };
  }
  const perUnit = NS_PER[info.periodType.unit];
  const period = Number(info.period);
  return perUnit !== undefined && info.sampleType.unit === 'count' && period > 0
    ? { type: info.sampleType.type, unit: info.sampleType.unit, periodNs: period * perUnit }
    : { type: info.sampleType.type, unit: info.sampleType.unit };
}

export function formatInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function formatDuration(ns: number): string {
  const abs = Math.abs(ns);
  if (abs >= 3600e9) return `${(ns / 3600e9).toFixed(2)} h`;
  if (abs >= 60e9) return `${(ns / 60e9).toFixed(2)} min`;
  if (abs >= 1e9) return `${(ns / 1e9).toFixed(2)} s`;
  if (abs >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (abs >= 1e3) return `${(ns / 1e3).toFixed(2)} µs`;
  return `${formatInt(ns)} ns`;
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${formatInt(v)} B` : `${v.toFixed(2)} ${units[u]}`;
}

/** A value in its unit; counts with a time period also as time: `1,234 samples (12.34 s)`. */
export function formatValue(value: number, unit: ValueUnit): string {
  switch (unit.unit) {
    case 'count': {
      const text = `${formatInt(value)} ${unit.type}`;
      return unit.periodNs ? `${text} (${formatDuration(value * unit.periodNs)})` : text;
    }
    case 'bytes':
      return formatBytes(value);
    case 'nanoseconds':
      return formatDuration(value);
    default:
      return unit.unit ? `${formatInt(value)} ${unit.unit}` : formatInt(value);
  }
}

export function formatShare(part: number, whole: number): string {
  if (!(whole > 0)) return '–';
  const pct = (part / whole) * 100;
  return `${pct >= 10 ? pct.toFixed(1) : pct.toFixed(2)} %`;
}

/** `2026-12-07 00:23:51Z` */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
}
