/**
 * Follows a file like `tail -F`: reads from the start, keeps polling for appended data, and
 * survives rotation. Rename rotation (the `logs` operator's lumberjack, logrotate `create`): the
 * old file is read to its end before the new one is opened and read from byte 0, so no complete
 * line is lost or read twice. Truncation (logrotate `copytruncate`): reading restarts at byte 0.
 * Limitation, as for tail: data written after the last poll and before a truncation is lost.
 * If the file is truncated and then grows past the old read position within one poll interval,
 * the truncation is not seen.
 *
 * Resuming (`--checkpoint`): when the checkpointed file is still at the path, reading starts at the
 * checkpoint; when it was rotated away but is still in the same directory, its rest is read first,
 * then the file now at the path from byte 0. Otherwise reading starts at byte 0, with a warning.
 */
import { open, readdir, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from '../../observability/logger.js';
import { FINGERPRINT_BYTES, fingerprint } from './follow-checkpoint.js';
import type { FollowCheckpoint } from './follow-checkpoint.js';
import { INPUT_RESTART } from './input-reader.js';
import type { InputChunk, InputReader } from './input-reader.js';
import { errorCode, errorText } from '../../util/error-text.js';

/** How often a followed file is checked for new data, rotation and truncation. */
export const FOLLOW_POLL_INTERVAL_MS = 250;
/** Largest single read. */
export const FOLLOW_READ_BYTES = 1024 * 1024;

export interface FollowReaderOptions {
  readonly logger: Logger;
  /** Overrides FOLLOW_POLL_INTERVAL_MS; for tests. */
  readonly pollIntervalMs?: number;
  /** Where an earlier run stopped (read from `--checkpoint`). */
  readonly resume?: FollowCheckpoint;
}

/** The file the chunks come from, from the start of input or the last INPUT_RESTART on. */
export interface FollowedFile {
  readonly dev: number;
  readonly ino: number;
  /** Offset of the first byte read from it (0, or the resume point). */
  readonly startOffset: number;
  /** Its first bytes as far as they have been read (at most FINGERPRINT_BYTES). */
  head(): Buffer;
}

export interface FollowReader extends InputReader {
  /** The file of the chunks returned since the start or the last INPUT_RESTART. */
  current(): FollowedFile | undefined;
}

async function readHead(fh: FileHandle, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** The checkpoint's file if `fh` is it and still holds the checkpointed bytes. */
async function isCheckpointedFile(fh: FileHandle, resume: FollowCheckpoint): Promise<boolean> {
  const st = await fh.stat();
  if (st.dev !== resume.dev || st.ino !== resume.ino || st.size < resume.offset) return false;
  const head = await readHead(fh, resume.headLength);
  return head.length === resume.headLength && fingerprint(head) === resume.headSha256;
}

/** A rotated-away checkpointed file still in the followed file's directory. */
async function findRotated(path: string, resume: FollowCheckpoint): Promise<string | undefined> {
  const dir = dirname(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const candidate = join(dir, name);
    if (candidate === path) continue;
    try {
      const st = await stat(candidate);
      if (!st.isFile() || st.ino !== resume.ino || st.dev !== resume.dev) continue;
      const h = await open(candidate, 'r');
      try {
        if (await isCheckpointedFile(h, resume)) return candidate;
      } finally {
        await h.close();
      }
    } catch {
      // vanished or unreadable: not the one
    }
  }
  return undefined;
}

export function createFollowReader(path: string, options: FollowReaderOptions): FollowReader {
  const { logger } = options;
  const pollMs = options.pollIntervalMs ?? FOLLOW_POLL_INTERVAL_MS;
  let resume = options.resume;
  let fh: FileHandle | undefined;
  let ino = -1;
  let pos = 0;
  let file: { dev: number; ino: number; startOffset: number; head: Buffer } | undefined;
  let nextFile: typeof file; // becomes `file` with the first chunk read from it
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

  const beginFile = (dev: number, inode: number, startOffset: number, head: Buffer): void => {
    nextFile = { dev, ino: inode, startOffset, head };
  };

  /** The first open with a checkpoint: resume in the file at the path, or in the rotated one. */
  const applyResume = async (h: FileHandle, checkpoint: FollowCheckpoint): Promise<void> => {
    if (checkpoint.path !== path) {
      logger.warn(
        `the checkpoint is for ${checkpoint.path}, not ${path}: reading ${path} from the start (the checkpoint will be replaced)`,
      );
      return;
    }
    if (await isCheckpointedFile(h, checkpoint)) {
      logger.info(`${path}: resuming at byte ${checkpoint.offset} (checkpoint)`);
      pos = checkpoint.offset;
      beginFile(checkpoint.dev, checkpoint.ino, pos, await readHead(h, FINGERPRINT_BYTES));
      return;
    }
    const rotated = await findRotated(path, checkpoint);
    if (rotated !== undefined) {
      const old = await open(rotated, 'r');
      logger.info(
        `${path}: rotated since the checkpoint; reading the rest of ${rotated} from byte ${checkpoint.offset}, then ${path}`,
      );
      await h.close();
      fh = old;
      ino = checkpoint.ino;
      pos = checkpoint.offset;
      draining = true;
      beginFile(checkpoint.dev, checkpoint.ino, pos, await readHead(old, FINGERPRINT_BYTES));
      return;
    }
    logger.warn(
      `${path}: the checkpointed file (inode ${checkpoint.ino}, byte ${checkpoint.offset}) is no longer there or was rewritten; ` +
        `reading ${path} from the start (lines written to the old file after the checkpoint were not read)`,
    );
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
      beginFile(st.dev, st.ino, 0, Buffer.alloc(0));
      waitingLogged = false;
      if (resume) {
        const checkpoint = resume;
        resume = undefined;
        await applyResume(h, checkpoint);
      }
      return true;
    } catch (err) {
      if (errorCode(err) === 'ENOENT') {
        if (!waitingLogged) logger.info(`${path}: waiting for the file to appear`);
        waitingLogged = true;
        return false;
      }
      if (err instanceof Error && err.message.startsWith(path)) throw err;
      throw new Error(`${path}: cannot open: ${errorText(err)} — check the path and permissions`, {
        cause: err,
      });
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
        if (nextFile) {
          file = nextFile;
          nextFile = undefined;
        }
        const headEnd = file?.head.length ?? FINGERPRINT_BYTES;
        if (file && headEnd < FINGERPRINT_BYTES && pos <= headEnd && headEnd < pos + bytesRead) {
          const upTo = Math.min(bytesRead, FINGERPRINT_BYTES - pos);
          file.head = Buffer.concat([file.head, buf.subarray(headEnd - pos, upTo)]);
        }
        pos += bytesRead;
        return bytesRead === buf.length ? buf : Buffer.from(buf.subarray(0, bytesRead));
      }
      // At the end of what the open file holds: truncated? rotated? else wait for more.
      if (draining) {
        draining = false;
        await closeHandle();
        continue;
      }
      const st = await fh.stat();
      const size = st.size;
      if (size < pos) {
        logger.info(`${path}: truncated (size ${size} < read position ${pos}); reading again from the start`);
        pos = 0;
        beginFile(st.dev, st.ino, 0, Buffer.alloc(0));
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
    current() {
      if (!file) return undefined;
      const f = file;
      return { dev: f.dev, ino: f.ino, startOffset: f.startOffset, head: () => f.head };
    },
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
