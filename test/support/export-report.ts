import { readFileSync } from 'node:fs';
import type { CliResult } from './cli-harness.js';
import { runCli } from './cli-harness.js';
import { BUNDLED_CAPTURE_PATH } from './profiles-fixtures.js';

/** The parts of `--report-json` the delivery tests read. */
export interface ExportReport {
  exitCode: number;
  losses: {
    reason: string;
    exporter?: string;
    counts: Partial<Record<'rows' | 'values' | 'requests' | 'profiles' | 'samples', number>>;
  }[];
  counters: { name: string; labels: Record<string, string>; value: number }[];
  exporters: Record<
    string,
    {
      rejectedByBackend: number;
      dropped: Record<string, { requests: number; profiles: number; samples: number }>;
    }
  >;
}

/**
 * `export` to an endpoint with `--report-json reportPath` (and `args`), reading the bundled capture
 * unless `stdin` is given; returns the CLI's result and the parsed report.
 */
export async function exportWithReport(
  endpoint: string,
  reportPath: string,
  args: readonly string[] = [],
  stdin?: string,
): Promise<{ res: CliResult; report: ExportReport }> {
  const res = await runCli(
    [
      'export',
      ...(stdin === undefined ? ['--input', BUNDLED_CAPTURE_PATH] : []),
      '--endpoint',
      endpoint,
      '--report-json',
      reportPath,
      ...args,
    ],
    stdin !== undefined ? { stdin } : {},
  );
  return { res, report: JSON.parse(readFileSync(reportPath, 'utf8')) as ExportReport };
}

/** Sum of one counter over the label sets that match `labels`. */
export function reportCounter(
  report: ExportReport,
  name: string,
  labels: Record<string, string> = {},
): number {
  return report.counters
    .filter((c) => c.name === name && Object.entries(labels).every(([k, v]) => c.labels[k] === v))
    .reduce((a, c) => a + c.value, 0);
}
