import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { main } from '../../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the CLI in-process with its own env and captured output (no signal handlers). */
export async function runCli(
  argv: readonly string[],
  options: { env?: Record<string, string | undefined>; stdin?: string } = {},
): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    env: options.env ?? {},
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    handleSignals: false,
    invokedAs: 'ig-otel-profiles',
    ...(options.stdin !== undefined ? { stdin: Readable.from([options.stdin]) } : {}),
  });
  return { code, stdout, stderr };
}

export const CLI_CHILD = new URL('./cli-child.ts', import.meta.url).pathname;

/** Starts the CLI as a real process (signals, exit codes), via tsx. */
export function spawnCli(argv: readonly string[], env: Record<string, string> = {}) {
  return spawn(process.execPath, ['--import', 'tsx', CLI_CHILD, ...argv], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

export function tempDir(): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), 'igop-cli-'));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** Flags that define a file exporter NAME writing OTLP/JSON to PATH, and select it. */
export const fileExporter = (name: string, path: string): string[] => [
  '--set',
  `operator.otel-profiles.exporters.${name}.exporter=file`,
  '--set',
  `operator.otel-profiles.exporters.${name}.path=${path}`,
  '--otel-profiles-exporter',
  name,
];
