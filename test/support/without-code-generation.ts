import { spawnSync } from 'node:child_process';

/**
 * Runs an ES module snippet in a child `node --disallow-code-generation-from-strings` (as some
 * hardened runtimes start Node), with tsx so it can import our .ts sources; returns its stdout.
 */
export function runWithoutCodeGeneration(script: string): {
  status: number | null;
  stdout: string;
  stderr: string;
} {
  const run = spawnSync(
    process.execPath,
    ['--disallow-code-generation-from-strings', '--import', 'tsx', '--input-type=module', '-e', script],
    { encoding: 'utf8' },
  );
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr };
}
