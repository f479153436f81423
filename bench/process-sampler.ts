import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * CPU time and resident memory of another process from `/proc/<pid>/stat` (utime + stime, in
 * clock ticks) and `/proc/<pid>/status` (VmRSS), sampled at a fixed period. Linux only.
 */

/** How often the sampler reads /proc. */
export const SAMPLE_PERIOD_MS = 1_000;

let clockTicks: number | undefined;

/** USER_HZ (`getconf CLK_TCK`), 100 on every mainstream Linux. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU seconds (user + system) the process used so far; undefined once it is gone. */
export function cpuSecondsOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return (utime + stime) / ticksPerSecond();
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes; undefined once the process is gone. */
export function rssBytesOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

export interface ProcessSample {
  /** Milliseconds since the sampler started. */
  readonly atMs: number;
  readonly rssBytes: number;
  readonly cpuSeconds: number;
  /** Label of the benchmark phase the sample was taken in (`healthy`, `down`, …). */
  readonly phase: string;
}

export interface ProcessSampler {
  /** Sets the label of the following samples. */
  setPhase(phase: string): void;
  /** Takes one sample now (also taken every SAMPLE_PERIOD_MS). */
  sampleNow(): ProcessSample | undefined;
  stop(): ProcessSample[];
}

export function startProcessSampler(pid: number, periodMs = SAMPLE_PERIOD_MS): ProcessSampler {
  const started = Date.now();
  const samples: ProcessSample[] = [];
  let phase = 'start';
  const sampleNow = (): ProcessSample | undefined => {
    const rss = rssBytesOf(pid);
    const cpu = cpuSecondsOf(pid);
    if (rss === undefined || cpu === undefined) return undefined;
    const s: ProcessSample = { atMs: Date.now() - started, rssBytes: rss, cpuSeconds: cpu, phase };
    samples.push(s);
    return s;
  };
  const timer = setInterval(sampleNow, periodMs);
  timer.unref();
  sampleNow();
  return {
    setPhase: (p) => {
      phase = p;
    },
    sampleNow,
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}
