import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { createArrayLineSplitter } from '../../src/gadget-bridge/json/array-line-splitter.js';
import type { ElementSpans } from '../../src/gadget-bridge/json/array-line-splitter.js';
import type { ProfileSpec } from '../../src/rows/profile-spec.js';
import type { RowBatch, RowSource } from '../../src/rows/row-batch.js';
import { createJsonRowSource } from '../../src/gadget-bridge/json/json-row-source.js';
import type { JsonRowSourceOptions } from '../../src/gadget-bridge/json/json-row-source.js';
import { Counters } from '../../src/observability/counters.js';
import type { LogFields, Logger, LogLevel } from '../../src/observability/logger.js';
import { IG_EXAMPLES_PATH } from './fixture-paths.js';

export const EXAMPLES_PATH = IG_EXAMPLES_PATH;

/** The example file's lines (each one `-o json` array), without the trailing empty line. */
export function exampleLines(): string[] {
  return readFileSync(EXAMPLES_PATH, 'utf8')
    .split('\n')
    .filter((l) => l !== '');
}

/** A spec for any datasource; fetch interval as given (undefined = the source default). */
export function testSpec(datasource = 'samples', fetchIntervalNano?: bigint): ProfileSpec {
  return {
    datasource,
    profileName: 'process_cpu',
    sampleType: { type: 'samples', unit: 'count' },
    stackFields: ['kern_stack', 'user_stack_raw.symbols'],
    valueField: 'samples',
    sampleAttributeFields: [],
    ...(fetchIntervalNano !== undefined ? { fetchIntervalNano } : {}),
  };
}

export interface LogLine {
  readonly level: LogLevel;
  readonly message: string;
}

/** A Logger that records what it is told. */
export function recordingLogger(): Logger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const make = (): Logger & { readonly lines: LogLine[] } => ({
    lines,
    error: (m: string, _f?: LogFields) => void lines.push({ level: 'error', message: m }),
    warn: (m: string, _f?: LogFields) => void lines.push({ level: 'warn', message: m }),
    info: (m: string, _f?: LogFields) => void lines.push({ level: 'info', message: m }),
    debug: (m: string, _f?: LogFields) => void lines.push({ level: 'debug', message: m }),
    isEnabled: () => true,
    child: () => make(),
  });
  return make();
}

export interface Harness {
  readonly source: RowSource;
  readonly counters: Counters;
  readonly logger: ReturnType<typeof recordingLogger>;
  readonly stdin: PassThrough;
}

/** A JSON row source over a PassThrough stdin (or the given input), with counters and a recording logger. */
export function harness(overrides: Partial<JsonRowSourceOptions> = {}): Harness {
  const counters = new Counters();
  const logger = recordingLogger();
  const stdin = new PassThrough();
  const source = createJsonRowSource({
    input: { kind: 'stdin' },
    resolveSpec: () => testSpec(),
    defaultFetchIntervalNano: 1_000_000_000n,
    logger,
    counters,
    stdin,
    ...overrides,
  });
  return { source, counters, logger, stdin };
}

/** Runs the source to its end; returns the batches, or the batches and the error it ended with. */
export async function collect(source: RowSource): Promise<{ batches: RowBatch[]; error?: Error }> {
  const batches: RowBatch[] = [];
  try {
    for await (const b of source.batches()) batches.push(b);
  } catch (err) {
    return { batches, error: err as Error };
  }
  return { batches };
}

/** Feeds `text` to stdin (in chunks of `chunkSize` bytes when given) and ends it. */
export function feed(stdin: PassThrough, text: string | Buffer, chunkSize?: number): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  if (!chunkSize) stdin.end(buf);
  else {
    for (let i = 0; i < buf.length; i += chunkSize) stdin.write(buf.subarray(i, i + chunkSize));
    stdin.end();
  }
}

/** A settable UNIX ns clock. */
export function manualClock(startNano: bigint): {
  now: () => bigint;
  set: (ns: bigint) => void;
  advance: (ns: bigint) => void;
} {
  let t = startNano;
  return { now: () => t, set: (ns) => void (t = ns), advance: (ns) => void (t += ns) };
}

/** A temp dir removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'igop-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Pretty form the way IG lays out `-o jsonpretty`: JSON.stringify(…, 2) with exact big integers. */
export function prettyArray(line: string): string {
  // Big integers are kept as their digit strings through a placeholder, then put back unquoted.
  const quoted = line.replace(/([:,[])(-?\d{16,})(?=[,}\]])/g, '$1"#BIG#$2"');
  const value = JSON.parse(quoted) as unknown;
  return JSON.stringify(value, null, 2).replace(/"#BIG#(-?\d+)"/g, '$1');
}

/** Waits until `predicate` holds, polling; fails after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** One element of an array line as the splitter handed it over. */
export interface SplitElement {
  readonly text: string;
  readonly spans: ElementSpans;
}

/** The elements of one `-o json` array line fed to the splitter `size` bytes at a time. */
export function splitArrayLine(line: string, size: number): SplitElement[] {
  const out: SplitElement[] = [];
  const splitter = createArrayLineSplitter({ element: (text, spans) => out.push({ text, spans }) });
  const bytes = Buffer.from(line);
  for (let i = 0; i < bytes.length; i += size) splitter.push(bytes, i, Math.min(bytes.length, i + size));
  assert.equal(splitter.end(false).kind, 'array');
  return out;
}
