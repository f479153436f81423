import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../observability/logger.js';
import { StoreLockedError } from './store-errors.js';

/**
 * One process per data directory: `serve.lock` holds the owner's pid, created exclusively. A lock left by
 * a process that no longer exists (kill -9, power loss) is taken over with a warning. DuckDB's own file
 * lock backs this up for processes on other hosts sharing the directory.
 */

export const LOCK_FILE = 'serve.lock';

/** Directories this process holds: a lock file naming our own pid is stale (a container restarts as the same pid) unless listed here. */
const heldByThisProcess = new Set<string>();

export interface StoreLock {
  release(): void;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): { pid?: number; host?: string } {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; host?: string };
  } catch {
    return {};
  }
}

/** Takes the lock of `dir` or throws StoreLockedError naming the holder. Other fs errors propagate. */
export function acquireStoreLock(dir: string, logger: Logger): StoreLock {
  const path = join(dir, LOCK_FILE);
  const content = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString() });
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err;
      const owner = readOwner(path);
      const sameHost = owner.host === undefined || owner.host === hostname();
      const held =
        owner.pid === process.pid
          ? heldByThisProcess.has(path)
          : owner.pid !== undefined && (!sameHost || processAlive(owner.pid));
      if (held)
        throw new StoreLockedError(
          dir,
          owner.pid,
          `${path} names it${sameHost ? '' : ` on host ${owner.host}`}`,
        );
      logger.warn('taking over a stale lock of a process that is gone', { path, pid: owner.pid });
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, content);
    } finally {
      closeSync(fd);
    }
    heldByThisProcess.add(path);
    return {
      release: () => {
        heldByThisProcess.delete(path);
        if (readOwner(path).pid === process.pid) rmSync(path, { force: true });
      },
    };
  }
}
