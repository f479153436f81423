/**
 * Runs a gadget command (`ig run profile_cpu -o json`, `kubectl gadget run …`) and reads its
 * stdout. Its stderr (IG's logrus output) goes to our logger line by line with the level mapped.
 * stop() sends SIGINT, which makes IG flush its maps (a final emission) and exit; reading goes on
 * until the child exits. If it does not exit in time, SIGTERM and finally SIGKILL follow.
 */
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from '../../observability/logger.js';
import { createStreamReader } from './input-reader.js';
import type { InputReader } from './input-reader.js';

/** How long a stopped child may take to flush and exit after SIGINT before it gets SIGTERM. */
export const COMMAND_STOP_GRACE_MS = 10_000;
/** How long after SIGTERM before SIGKILL. */
export const COMMAND_KILL_GRACE_MS = 5_000;

export interface CommandReaderOptions {
  readonly logger: Logger;
  /** Overrides COMMAND_STOP_GRACE_MS (and the SIGTERM → SIGKILL wait); for tests. */
  readonly stopGraceMs?: number;
}

/** `ig run profile_cpu` for `ig run profile_cpu --collect-ustack -o json`: the words before the first flag. */
export function commandDisplayName(argv: readonly string[]): string {
  const words: string[] = [];
  for (const [i, arg] of argv.entries()) {
    if (i > 0 && (arg.startsWith('-') || words.length >= 4)) break;
    words.push(i === 0 ? basename(arg) : arg);
  }
  return words.join(' ') || 'command';
}

/** Level of one stderr line of IG (logrus text or TTY format) or another tool. */
export function stderrLevel(line: string): 'error' | 'warn' | 'info' {
  if (
    /\blevel=(?:error|fatal|panic)\b/i.test(line) ||
    /^\s*(?:ERRO|ERROR|FATA|FATAL|PANI|PANIC)\b/.test(line)
  )
    return 'error';
  if (/\blevel=warn(?:ing)?\b/i.test(line) || /^\s*(?:WARN|WARNING)\b/.test(line)) return 'warn';
  return 'info';
}

export function createCommandReader(argv: readonly string[], options: CommandReaderOptions): InputReader {
  const [file, ...args] = argv;
  if (file === undefined)
    throw new Error('no command given to run (expected e.g. `-- ig run profile_cpu -o json`)');
  const name = commandDisplayName(argv);
  const { logger } = options;
  const stopGrace = options.stopGraceMs ?? COMMAND_STOP_GRACE_MS;
  const killGrace = options.stopGraceMs ?? COMMAND_KILL_GRACE_MS;

  const child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let spawnError: Error | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let stopRequested = false;
  const timers: NodeJS.Timeout[] = [];
  const exited = new Promise<void>((resolve) => {
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
    child.once('close', (code, signal) => {
      exit = { code, signal };
      for (const t of timers) clearTimeout(t);
      resolve();
    });
  });

  const stderrDone = new Promise<void>((resolve) => {
    const rl = createInterface({ input: child.stderr, crlfDelay: Infinity });
    rl.on('line', (line) => {
      if (line.trim() === '') return;
      logger[stderrLevel(line)](`${name}: ${line}`);
    });
    rl.once('close', resolve);
  });

  const stdout = createStreamReader(child.stdout, { name, onStop: 'drain', destroyOnClose: true });
  const running = (): boolean => exit === undefined && spawnError === undefined;
  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(fn, ms);
    t.unref(); // the child itself holds the process until it exits
    timers.push(t);
  };

  return {
    next: () => stdout.next(),
    async stop() {
      if (!running()) return;
      if (!stopRequested) {
        stopRequested = true;
        child.kill('SIGINT');
        later(stopGrace, () => {
          if (!running()) return;
          logger.warn(`${name} did not exit ${stopGrace} ms after SIGINT; sending SIGTERM`);
          child.kill('SIGTERM');
          later(killGrace, () => {
            if (!running()) return;
            logger.warn(`${name} did not exit ${killGrace} ms after SIGTERM; sending SIGKILL`);
            child.kill('SIGKILL');
          });
        });
      }
      await exited;
    },
    async finish() {
      await exited;
      await stderrDone;
      if (spawnError) {
        throw new Error(
          `cannot run "${file}": ${spawnError.message} — check that it is installed and on PATH`,
          { cause: spawnError },
        );
      }
      const { code, signal } = exit ?? { code: null, signal: null };
      if (code === 0) return;
      if (stopRequested && (signal !== null || code === 130 || code === 143)) return; // our own stop
      const how = signal !== null ? `was killed by signal ${signal}` : `exited with code ${String(code)}`;
      throw new Error(
        `command "${argv.join(' ')}" ${how} after all its output was read (see its stderr lines in the log)`,
      );
    },
    close() {
      stdout.close();
      if (running()) child.kill('SIGTERM');
      for (const t of timers) clearTimeout(t);
    },
  };
}
