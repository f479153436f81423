/**
 * Follows a file like `tail -F`: reads from the start, keeps polling for appended data, and
 * survives rotation. Rename rotation (the `logs` operator's lumberjack, logrotate `create`): the
 * old file is read to its end before the new one is opened and read from byte 0, so no complete
 * line is lost or read twice. Truncation (logrotate `copytruncate`): reading restarts at byte 0.
 * Limitation, as for tail: data written after the last poll and before a truncation is lost.
 * If the file is truncated and then grows past the old read position within one poll interval,
 * the truncation is not seen.
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Logger } from '../../observability/logger.js';
import { INPUT_RESTART } from './input-reader.js';
import type { InputChunk, InputReader } from './input-reader.js';

/** How often a followed file is checked for new data, rotation and truncation. */
export const FOLLOW_POLL_INTERVAL_MS = 250;
/** Largest single read. */
export const FOLLOW_READ_BYTES = 1024 * 1024;

export interface FollowReaderOptions {
  readonly logger: Logger;
  /** Overrides FOLLOW_POLL_INTERVAL_MS; for tests. */
  readonly pollIntervalMs?: number;
}

function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

export function createFollowReader(path: string, options: FollowReaderOptions): InputReader {
  const { logger } = options;
  const pollMs = options.pollIntervalMs ?? FOLLOW_POLL_INTERVAL_MS;
  let fh: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let openedOnce = false;
  let waitingLogged = false;
  let stopped = false;
  let closed = false;
  let draining = false; // rotation seen: read the old file to its end once more, then switch
  let sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;

  const sleep = (ms: number): Promise<void> =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        sleeper = undefined;
        resolve();
      }, ms);
      sleeper = { timer, resolve };
    });
  const wakeUp = (): void => {
    if (!sleeper) return;
    clearTimeout(sleeper.timer);
    const { resolve } = sleeper;
    sleeper = undefined;
    resolve();
  };
  const closeHandle = async (): Promise<void> => {
    const h = fh;
    fh = undefined;
    await h?.close().catch(() => undefined);
  };

  /** Opens the path; true when opened, false when it does not exist (yet). */
  const tryOpen = async (): Promise<boolean> => {
    try {
      const h = await open(path, 'r');
      const st = await h.stat();
      if (!st.isFile()) {
        await h.close();
        throw new Error(`${path}: not a regular file; --follow needs a file`);
      }
      fh = h;
      ino = st.ino;
      pos = 0;
      waitingLogged = false;
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        if (!waitingLogged) logger.info(`${path}: waiting for the file to appear`);
        waitingLogged = true;
        return false;
      }
      if (err instanceof Error && err.message.startsWith(path)) throw err;
      throw new Error(
        `${path}: cannot open: ${err instanceof Error ? err.message : String(err)} — check the path and permissions`,
        { cause: err },
      );
    }
  };

  const next = async (): Promise<InputChunk | undefined> => {
    for (;;) {
      if (closed) return undefined;
      const afterStop = stopped; // the end is only final for a look taken after stop()
      if (!fh) {
        if (await tryOpen()) {
          if (openedOnce) return INPUT_RESTART;
          openedOnce = true;
          continue;
        }
        if (afterStop) return undefined;
        if (!stopped) await sleep(pollMs);
        continue;
      }
      const buf = Buffer.allocUnsafe(FOLLOW_READ_BYTES);
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      if (bytesRead > 0) {
        pos += bytesRead;
        return bytesRead === buf.length ? buf : Buffer.from(buf.subarray(0, bytesRead));
      }
      // At the end of what the open file holds: truncated? rotated? else wait for more.
      if (draining) {
        draining = false;
        await closeHandle();
        continue;
      }
      const size = (await fh.stat()).size;
      if (size < pos) {
        logger.info(`${path}: truncated (size ${size} < read position ${pos}); reading again from the start`);
        pos = 0;
        return INPUT_RESTART;
      }
      let pathIno: number | undefined;
      try {
        pathIno = (await stat(path)).ino;
      } catch (err) {
        if (errorCode(err) !== 'ENOENT') throw err;
      }
      if (pathIno !== undefined && pathIno !== ino) {
        // Rotated. Lines written to the old file before the rename may have landed after our last
        // read: read it to its end once more, then the new file from byte 0.
        logger.info(`${path}: rotated; reading the new file`);
        draining = true;
        continue;
      }
      if (afterStop) return undefined; // a read after stop() found nothing more
      if (!stopped) await sleep(pollMs);
    }
  };

  return {
    next,
    stop() {
      stopped = true;
      wakeUp(); // read once more, then end
      return Promise.resolve();
    },
    async finish() {
      await closeHandle();
    },
    close() {
      closed = true;
      wakeUp();
      void closeHandle();
    },
  };
}
