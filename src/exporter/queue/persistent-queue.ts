import { mkdir, open, readFile, readdir, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConfigError } from '../../config/config-error.js';
import type { Logger } from '../../observability/logger.js';
import { batchFromBytes } from '../create-export-batch.js';
import type { ExportBatch } from '../export-batch.js';
import type { Clock, TimerHandle } from '../../util/clock.js';
import { systemClock } from '../../util/clock.js';
import type { ExportQueue, QueueEntry, QueueOptions, QueueSize, TakenBatch } from './export-queue.js';
import type { QueueRecordHeader } from './queue-file-format.js';
import { decodeQueueRecord, encodeQueueRecord } from './queue-file-format.js';
import { errorCode, errorText } from '../../util/error-text.js';

/**
 * A queue that survives restarts and `kill -9`: every accepted batch is its own file in
 * `queue.directory`, written to a temporary name, fsync'ed, renamed into place and the directory
 * fsync'ed **before** `enqueue()` resolves. A file is deleted only once the batch is done
 * (delivered, or dropped and counted). On start the files are replayed in arrival order; a torn or
 * corrupt file is reported, moved aside as `*.corrupt` and counted, never fatal.
 *
 * Delivery is at least once: a batch whose send succeeded just before a crash is sent again.
 */

/** Extension of a committed batch file; the name before it is a zero-padded sequence number. */
const BATCH_SUFFIX = '.batch';
/** Extension of a file being written; one left over at start is an unacknowledged write. */
const TEMP_SUFFIX = '.tmp';
/** Appended to a file that failed verification. */
const CORRUPT_SUFFIX = '.corrupt';
/** Digits of the sequence number in file names, so names sort in arrival order. */
const SEQUENCE_DIGITS = 16;
/** Queue files hold profiles (stacks, process names): only the exporter's user may read them. */
const FILE_MODE = 0o600;
/** Directories the queue creates, for the same reason. */
const DIRECTORY_MODE = 0o700;
/** Holds the pid of the process using the directory. */
const LOCK_FILE = 'queue.lock';
/** The holder refreshes the lock's mtime this often… */
const LOCK_REFRESH_MS = 10_000;
/** …so a lock older than this belongs to a process that is gone (even if its pid was reused). */
const LOCK_STALE_MS = 3 * LOCK_REFRESH_MS;
/**
 * Recently accepted batches are also kept in memory up to this many payload bytes, so sending
 * them does not read the file back; older ones are read from disk when their turn comes.
 */
export const PERSISTENT_QUEUE_MEMORY_CACHE_BYTES = 16 * 1024 * 1024;

/** Directories locked by this process (two exporters must not share one). */
const HELD_DIRECTORIES = new Set<string>();

export interface PersistentQueueOptions extends QueueOptions {
  readonly directory: string;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Overrides PERSISTENT_QUEUE_MEMORY_CACHE_BYTES (0 = always read from disk). */
  readonly memoryCacheBytes?: number;
}

interface Slot {
  readonly entry: QueueEntry & { readonly file: string };
  /** Kept in memory (counted in _cachedBytes) or to be read back from `entry.file`. */
  batch: ExportBatch | undefined;
}

/** A queue.directory that cannot hold the queue: a configuration error (exit 2), found at start. */
function unusableDirectory(dir: string, why: string): ConfigError {
  return new ConfigError([
    `the persistent queue directory ${dir} (queue.directory) cannot be used: ${why}; ` +
      'choose a writable directory on a real file system, e.g. a mounted volume',
  ]);
}

/**
 * Creates `dir` and its missing parents (DIRECTORY_MODE), one level at a time. Not Node's recursive
 * mkdir: it never returns where mkdir answers ENOENT under a parent that exists (/proc), which hung
 * start-up without a word.
 */
async function createDirectories(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let path = dir; ; path = dirname(path)) {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch (err) {
      if (errorCode(err) === 'ENOTDIR') continue; // a parent is a file: reported at that parent
      if (errorCode(err) !== 'ENOENT') throw unusableDirectory(dir, errorText(err));
      missing.push(path);
      if (dirname(path) === path) break;
      continue;
    }
    if (!isDirectory) throw unusableDirectory(dir, `${path} is not a directory`);
    break;
  }
  for (const path of missing.reverse()) {
    try {
      await mkdir(path, { mode: DIRECTORY_MODE });
    } catch (err) {
      if (errorCode(err) === 'EEXIST') continue;
      // ENOENT although the parent exists: the parent's file system makes no directories.
      const why =
        errorCode(err) === 'ENOENT'
          ? `${dirname(path)} takes no new directories (a pseudo file system such as /proc?)`
          : errorText(err);
      throw unusableDirectory(dir, `cannot create ${path}: ${why}`);
    }
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errorCode(err) === 'EPERM';
  }
}

/** Makes a rename/unlink in `dir` durable; skipped where directories cannot be fsync'ed. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (err) {
    const code = errorCode(err);
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

class PersistentQueue implements ExportQueue {
  readonly kind = 'persistent' as const;
  readonly description: string;
  private readonly _dir: string;
  private readonly _options: PersistentQueueOptions;
  private readonly _clock: Clock;
  private readonly _log: Logger;
  private readonly _cacheLimit: number;
  private _slots: Slot[] = [];
  private _head = 0;
  private _bytes = 0;
  private readonly _inFlight = new Map<QueueEntry, Slot>();
  private _inFlightBytes = 0;
  private _cachedBytes = 0;
  private _nextSequence = 1;
  /** Serialises writes so files are numbered and queued in the order enqueue() was called. */
  private _writes: Promise<unknown> = Promise.resolve();
  private _opened = false;
  private _closed = false;
  private _lockRefresh: TimerHandle | undefined;

  constructor(options: PersistentQueueOptions) {
    this._options = options;
    this._dir = resolve(options.directory);
    this.description = this._dir;
    this._clock = options.clock ?? systemClock;
    this._log = options.logger;
    this._cacheLimit = Math.max(0, options.memoryCacheBytes ?? PERSISTENT_QUEUE_MEMORY_CACHE_BYTES);
  }

  async open(): Promise<QueueSize> {
    if (this._opened) throw new Error(`persistent queue ${this._dir} is already open`);
    await createDirectories(this._dir);
    await this._lock();
    this._opened = true;
    try {
      return await this._replay();
    } catch (err) {
      this._opened = false;
      await this._unlock();
      throw err;
    }
  }

  private async _replay(): Promise<QueueSize> {
    const names = await readdir(this._dir);
    const batches: { sequence: number; name: string }[] = [];
    let maxSequence = 0;
    for (const name of names) {
      const match = /^(\d+)\.batch(\.tmp|\.corrupt)?$/.exec(name);
      if (!match) continue;
      const sequence = Number(match[1]);
      maxSequence = Math.max(maxSequence, sequence);
      if (match[2] === TEMP_SUFFIX) {
        // enqueue() never resolved for it, so nobody was told it was stored.
        this._log.warn(`removing an incomplete write from before a crash: ${join(this._dir, name)}`);
        await unlink(join(this._dir, name)).catch(() => undefined);
      } else if (match[2] === undefined) {
        batches.push({ sequence, name });
      }
    }
    this._nextSequence = maxSequence + 1;
    batches.sort((a, b) => a.sequence - b.sequence);

    for (const { name } of batches) {
      const file = join(this._dir, name);
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch (err) {
        await this._quarantine(file, `unreadable: ${errorText(err)}`, undefined, 0);
        continue;
      }
      const decoded = decodeQueueRecord(data);
      if (!decoded.ok) {
        await this._quarantine(file, decoded.problem, decoded.header, data.length);
        continue;
      }
      const { record } = decoded;
      const slot: Slot = {
        entry: {
          id: record.id,
          bytes: record.payload.length,
          profiles: record.profiles,
          samples: record.samples,
          enqueuedAt: record.enqueuedAt,
          file,
        },
        batch: undefined,
      };
      if (this._cachedBytes + record.payload.length <= this._cacheLimit) {
        slot.batch = batchFromBytes(record.payload, record.id, record);
        this._cachedBytes += record.payload.length;
      }
      this._slots.push(slot);
      this._bytes += slot.entry.bytes;
    }
    const replayed = this.pending();
    await this._enforceLimits();
    return replayed;
  }

  enqueue(batch: ExportBatch): Promise<void> {
    const write = this._writes.then(() => this._write(batch));
    this._writes = write.catch(() => undefined);
    return write;
  }

  async take(): Promise<TakenBatch | undefined> {
    for (let slot = this._shift(); slot; slot = this._shift()) {
      this._inFlight.set(slot.entry, slot);
      this._inFlightBytes += slot.entry.bytes;
      if (slot.batch) return { entry: slot.entry, batch: slot.batch };
      const { file } = slot.entry;
      let data: Buffer;
      try {
        data = await readFile(file);
      } catch (err) {
        this._forget(slot);
        await this._quarantine(file, `unreadable: ${errorText(err)}`, headerOf(slot.entry), slot.entry.bytes);
        continue;
      }
      const decoded = decodeQueueRecord(data);
      if (!decoded.ok) {
        this._forget(slot);
        await this._quarantine(file, decoded.problem, decoded.header ?? headerOf(slot.entry), data.length);
        continue;
      }
      const { record } = decoded;
      return {
        entry: slot.entry,
        batch: batchFromBytes(record.payload, record.id, record),
      };
    }
    return undefined;
  }

  async complete(entry: QueueEntry): Promise<void> {
    const slot = this._inFlight.get(entry);
    if (!slot) return;
    this._forget(slot);
    await this._delete(slot.entry.file);
  }

  pending(): QueueSize {
    return { requests: this._slots.length - this._head, bytes: this._bytes };
  }

  inFlight(): QueueSize {
    return { requests: this._inFlight.size, bytes: this._inFlightBytes };
  }

  async close(): Promise<readonly QueueEntry[]> {
    if (this._closed) return [];
    this._closed = true;
    await this._writes;
    const left: QueueEntry[] = [];
    for (let slot = this._shift(); slot; slot = this._shift()) left.push(slot.entry);
    for (const slot of this._inFlight.values()) left.push(slot.entry);
    this._inFlight.clear();
    this._inFlightBytes = 0;
    this._cachedBytes = 0;
    if (this._opened) await this._unlock();
    return left;
  }

  private async _write(batch: ExportBatch): Promise<void> {
    if (!this._opened || this._closed) {
      throw new Error(`persistent queue ${this._dir} is ${this._closed ? 'closed' : 'not open yet'}`);
    }
    const name = `${String(this._nextSequence++).padStart(SEQUENCE_DIGITS, '0')}${BATCH_SUFFIX}`;
    const file = join(this._dir, name);
    const temp = file + TEMP_SUFFIX;
    const enqueuedAt = this._clock.now();
    const data = encodeQueueRecord({
      id: batch.id,
      profiles: batch.profiles,
      samples: batch.samples,
      enqueuedAt,
      payload: batch.bytes,
    });
    try {
      const handle = await open(temp, 'wx', FILE_MODE);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
      await fsyncDirectory(this._dir);
    } catch (err) {
      await unlink(temp).catch(() => undefined);
      const wrapped = new Error(
        `cannot store a batch in the persistent queue ${this._dir} (queue.directory): ${errorText(err)}; ` +
          'free space or fix the permissions of the directory',
      );
      Object.assign(wrapped, { code: errorCode(err) });
      throw wrapped;
    }
    const slot: Slot = {
      entry: {
        id: batch.id,
        bytes: batch.bytes.length,
        profiles: batch.profiles,
        samples: batch.samples,
        enqueuedAt,
        file,
      },
      batch: undefined,
    };
    if (this._cachedBytes + slot.entry.bytes <= this._cacheLimit) {
      slot.batch = batch;
      this._cachedBytes += slot.entry.bytes;
    }
    this._slots.push(slot);
    this._bytes += slot.entry.bytes;
    await this._enforceLimits();
  }

  private _shift(): Slot | undefined {
    if (this._head >= this._slots.length) return undefined;
    const slot = this._slots[this._head] as Slot;
    this._head += 1;
    this._bytes -= slot.entry.bytes;
    if (this._head * 2 >= this._slots.length) {
      this._slots = this._slots.slice(this._head);
      this._head = 0;
    }
    return slot;
  }

  /** Drops an in-flight slot from memory accounting (its file is handled by the caller). */
  private _forget(slot: Slot): void {
    if (this._inFlight.delete(slot.entry)) this._inFlightBytes -= slot.entry.bytes;
    if (slot.batch) {
      this._cachedBytes -= slot.entry.bytes;
      slot.batch = undefined;
    }
  }

  private async _enforceLimits(): Promise<void> {
    const { maxBytes, maxRequests } = this._options.limits;
    const evicted: Slot[] = [];
    while (this._slots.length - this._head > maxRequests || this._bytes > maxBytes) {
      const slot = this._shift();
      if (!slot) break;
      if (slot.batch) this._cachedBytes -= slot.entry.bytes;
      slot.batch = undefined;
      evicted.push(slot);
      const { entry } = slot;
      this._options.onDrop({
        reason: 'queue_full',
        id: entry.id,
        bytes: entry.bytes,
        profiles: entry.profiles,
        samples: entry.samples,
        file: entry.file,
      });
    }
    for (const slot of evicted) await this._delete(slot.entry.file);
  }

  private async _delete(file: string): Promise<void> {
    try {
      await unlink(file);
    } catch (err) {
      if (errorCode(err) === 'ENOENT') return;
      // The batch would be sent again after a restart: a duplicate, not a loss.
      this._log.warn(
        `cannot delete the finished queue file ${file}: ${errorText(err)}; it will be sent again on the next start`,
      );
    }
  }

  private async _quarantine(
    file: string,
    problem: string,
    header: QueueRecordHeader | undefined,
    size: number,
  ): Promise<void> {
    let movedTo: string | undefined = file + CORRUPT_SUFFIX;
    try {
      await rename(file, movedTo);
    } catch (err) {
      this._log.warn(`cannot move the damaged queue file ${file} aside: ${errorText(err)}`);
      movedTo = undefined;
    }
    this._options.onDrop({
      reason: 'corrupt_file',
      ...(header ? { id: header.id } : {}),
      bytes: header?.payloadBytes ?? size,
      profiles: header?.profiles ?? 0,
      samples: header?.samples ?? 0,
      file,
      problem,
      ...(movedTo ? { movedTo } : {}),
    });
  }

  private async _lock(): Promise<void> {
    if (HELD_DIRECTORIES.has(this._dir)) {
      throw new Error(
        `the persistent queue directory ${this._dir} is already used by another exporter of this process; ` +
          'give each exporter its own queue.directory',
      );
    }
    const path = join(this._dir, LOCK_FILE);
    try {
      await writeFile(path, `${process.pid}\n`, { flag: 'wx', mode: FILE_MODE });
    } catch (err) {
      // The lock is the first file created: where it cannot be, no batch could be stored either.
      if (errorCode(err) !== 'EEXIST')
        throw unusableDirectory(this._dir, `files cannot be created in it (${errorText(err)})`);
      const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
      const age = await stat(path).then(
        (s) => Date.now() - s.mtimeMs,
        () => Infinity,
      );
      if (
        Number.isInteger(owner) &&
        owner > 0 &&
        owner !== process.pid &&
        processAlive(owner) &&
        age < LOCK_STALE_MS
      ) {
        throw new Error(
          `the persistent queue directory ${this._dir} is in use by process ${owner} (${path}); ` +
            'give each exporter its own queue.directory, or delete the lock file if that process is not an exporter',
        );
      }
      this._log.debug(`taking over the stale lock ${path}`, {
        previousOwner: Number.isInteger(owner) ? owner : undefined,
      });
      await writeFile(path, `${process.pid}\n`);
    }
    HELD_DIRECTORIES.add(this._dir);
    const refresh = (): void => {
      const now = new Date();
      void utimes(path, now, now).catch(() => undefined);
      this._lockRefresh = systemClock.setTimer(refresh, LOCK_REFRESH_MS);
    };
    this._lockRefresh = systemClock.setTimer(refresh, LOCK_REFRESH_MS);
  }

  private async _unlock(): Promise<void> {
    this._lockRefresh?.cancel();
    HELD_DIRECTORIES.delete(this._dir);
    await unlink(join(this._dir, LOCK_FILE)).catch(() => undefined);
  }
}

function headerOf(entry: QueueEntry): QueueRecordHeader {
  return { id: entry.id, profiles: entry.profiles, samples: entry.samples, payloadBytes: entry.bytes };
}

/** A bounded queue whose batches are files in `options.directory`. */
export function createPersistentQueue(options: PersistentQueueOptions): ExportQueue {
  return new PersistentQueue(options);
}
