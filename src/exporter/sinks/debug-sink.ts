import type { ExporterConfig } from '../../config/exporter-config.js';
import type { ExportProfilesServiceRequest, ProfilesDictionary } from '../../profiles/model/otlp-model.js';
import type { ExportBatch } from '../export-batch.js';
import type { ExportResponse } from '../export-response.js';
import type { ExporterDeps } from '../exporter-deps.js';
import type { ExporterTransport } from '../exporter-transport.js';
import { errorText } from '../../util/error-text.js';

/**
 * The `debug` exporter: a short human summary of every request on stderr (like the Collector's
 * debug exporter at `basic` verbosity, plus the hottest leaf functions), for trying things out.
 */

/** Leaf functions listed per request. */
const TOP_LEAVES = 5;
/** Longest function name shown before it is cut with `…`. */
const MAX_NAME_WIDTH = 80;

interface TypeTotals {
  readonly type: string;
  readonly unit: string;
  profiles: number;
  samples: number;
  total: bigint;
  /** For CPU sample counts: the CPU time they stand for (count × period). */
  cpuNanos: bigint;
  readonly leaves: Map<string, bigint>;
}

function formatInt(value: bigint): string {
  return value.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function formatSeconds(nanos: bigint): string {
  const s = Number(nanos) / 1e9;
  return s >= 1 || s === 0 ? `${s.toFixed(2)}s` : `${(s * 1000).toFixed(2)}ms`;
}

function formatBytes(bytes: bigint): string {
  const n = Number(bytes);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A value in its unit, readable: `1.50s`, `2.0 MiB`, `1,234 count`. */
export function formatValue(value: bigint, unit: string): string {
  if (unit === 'nanoseconds') return formatSeconds(value);
  if (unit === 'bytes') return formatBytes(value);
  return `${formatInt(value)} ${unit}`;
}

function percent(part: bigint, total: bigint): string {
  if (total === 0n) return '  0.0%';
  return `${((Number(part) / Number(total)) * 100).toFixed(1).padStart(5)}%`;
}

function shorten(name: string): string {
  return name.length > MAX_NAME_WIDTH ? `${name.slice(0, MAX_NAME_WIDTH - 1)}…` : name;
}

/** The innermost function of a stack, or `module+0xaddr` for an unsymbolized frame. */
function leafName(dict: ProfilesDictionary, stackIndex: number): string {
  const stack = dict.stackTable[stackIndex];
  const locationIndex = stack?.locationIndices[0];
  if (locationIndex === undefined) return '[empty stack]';
  const location = dict.locationTable[locationIndex];
  if (!location) return `[location ${locationIndex}?]`;
  // lines[0] is the innermost of inlined functions.
  const fn =
    location.lines[0] !== undefined ? dict.functionTable[location.lines[0].functionIndex] : undefined;
  const name = fn ? dict.stringTable[fn.nameStrindex] || dict.stringTable[fn.systemNameStrindex] : undefined;
  if (name) return name;
  const mapping = location.mappingIndex !== 0 ? dict.mappingTable[location.mappingIndex] : undefined;
  const module = mapping ? dict.stringTable[mapping.filenameStrindex] : undefined;
  return `${module ? `${module}+` : ''}0x${location.address.toString(16)}`;
}

/** The summary lines for one request (no trailing newline). */
export function summarizeRequest(
  request: ExportProfilesServiceRequest,
  encodedBytes: number,
  label = '',
): string[] {
  const dict = request.dictionary;
  const types = new Map<string, TypeTotals>();
  let profiles = 0;
  let samples = 0;
  let start: bigint | undefined;
  let end: bigint | undefined;
  for (const rp of request.resourceProfiles) {
    for (const sp of rp.scopeProfiles) {
      for (const p of sp.profiles) {
        profiles++;
        samples += p.samples.length;
        if (start === undefined || p.timeUnixNano < start) start = p.timeUnixNano;
        const pEnd = p.timeUnixNano + p.durationNano;
        if (end === undefined || pEnd > end) end = pEnd;
        const type = (p.sampleType && dict.stringTable[p.sampleType.typeStrindex]) || 'samples';
        const unit = (p.sampleType && dict.stringTable[p.sampleType.unitStrindex]) || 'count';
        const periodType = p.periodType ? dict.stringTable[p.periodType.typeStrindex] : undefined;
        const periodUnit = p.periodType ? dict.stringTable[p.periodType.unitStrindex] : undefined;
        const isCpu =
          type === 'samples' && unit === 'count' && periodType === 'cpu' && periodUnit === 'nanoseconds';
        const key = `${type}/${unit}`;
        let t = types.get(key);
        if (!t) {
          t = { type, unit, profiles: 0, samples: 0, total: 0n, cpuNanos: 0n, leaves: new Map() };
          types.set(key, t);
        }
        t.profiles++;
        t.samples += p.samples.length;
        for (const s of p.samples) {
          const value =
            s.values.length > 0 ? s.values.reduce((a, b) => a + b, 0n) : BigInt(s.timestampsUnixNano.length);
          t.total += value;
          if (isCpu) t.cpuNanos += value * p.period;
          const leaf = leafName(dict, s.stackIndex);
          t.leaves.set(leaf, (t.leaves.get(leaf) ?? 0n) + value);
        }
      }
    }
  }
  const lines: string[] = [];
  lines.push(
    `${label}${request.resourceProfiles.length} resources, ${profiles} profiles, ${formatInt(BigInt(samples))} samples, ` +
      `${formatInt(BigInt(encodedBytes))} bytes encoded`,
  );
  if (start !== undefined && end !== undefined) {
    const startMs = Number(start / 1_000_000n);
    const iso = startMs > 0 && startMs < 8.64e15 ? new Date(startMs).toISOString() : `${start}ns`;
    lines.push(`  window ${iso} + ${formatSeconds(end - start)}`);
  }
  for (const t of types.values()) {
    const cpu = t.cpuNanos > 0n ? ` (${formatSeconds(t.cpuNanos)} cpu)` : '';
    lines.push(
      `  ${t.type}/${t.unit}: total ${formatValue(t.total, t.unit)}${cpu} in ${formatInt(BigInt(t.samples))} samples of ${t.profiles} profiles`,
    );
  }
  lines.push(
    `  dictionary: ${dict.stringTable.length} strings, ${dict.functionTable.length} functions, ` +
      `${dict.locationTable.length} locations, ${dict.mappingTable.length} mappings, ${dict.stackTable.length} stacks, ` +
      `${dict.attributeTable.length} attributes, ${dict.linkTable.length} links`,
  );
  // The hottest leaves of the type with the most value-bearing samples (usually the only type).
  const main = [...types.values()].sort((a, b) => b.samples - a.samples)[0];
  if (main && main.total > 0n) {
    const top = [...main.leaves.entries()].sort((a, b) =>
      b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : a[0].localeCompare(b[0]),
    );
    lines.push(`  top leaf functions by ${main.type}/${main.unit}:`);
    for (const [name, value] of top.slice(0, TOP_LEAVES)) {
      lines.push(
        `    ${percent(value, main.total)} ${formatValue(value, main.unit).padStart(12)}  ${shorten(name)}`,
      );
    }
  }
  return lines;
}

/** The `debug` exporter; `write` defaults to stderr (stdout may carry data). */
export function createDebugSink(
  config: ExporterConfig,
  deps: ExporterDeps,
  write: (s: string) => void = (s) => void process.stderr.write(s),
): ExporterTransport {
  const labels = { exporter: config.name };
  return {
    description: 'debug stderr',

    send(batch: ExportBatch): Promise<ExportResponse> {
      try {
        const lines = summarizeRequest(
          batch.request(),
          batch.bytes.length,
          `debug "${config.name}" batch ${batch.id}: `,
        );
        write(`${lines.join('\n')}\n`);
        deps.counters.add('debug_requests_summarized', 1, labels);
        return Promise.resolve({ status: 'success' });
      } catch (error) {
        const message = errorText(error);
        return Promise.resolve({
          status: 'failure',
          error: new Error(
            `debug exporter "${config.name}": batch ${batch.id} cannot be decoded: ${message}`,
            { cause: error },
          ),
        });
      }
    },

    shutdown(): Promise<void> {
      return Promise.resolve();
    },
  };
}
