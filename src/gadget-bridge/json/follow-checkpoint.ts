/**
 * The checkpoint of a followed file (`export --follow --checkpoint FILE`): how far the exporter got
 * in which file, so a restart resumes there instead of exporting the file again from byte 0.
 *
 * A file is identified as `tail -F` and log shippers do: device and inode, plus a fingerprint of
 * its first bytes, because inodes are reused after rotation deletes a file. The checkpoint is
 * written atomically (temporary file, fsync, rename), so a crash leaves the old or the new one.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Counters } from '../../observability/counters.js';
import type { Logger } from '../../observability/logger.js';
import { errorText } from '../../util/error-text.js';

/** Bytes at the start of a file that fingerprint it (fewer while the file is shorter). */
export const FINGERPRINT_BYTES = 1024;
const CHECKPOINT_VERSION = 1;

/** A position in one particular file. */
export interface FollowCheckpoint {
  /** The followed path, as given (a checkpoint of another path is not used). */
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
  /** Everything before this byte offset has been handed to the exporters. */
  readonly offset: number;
  /** How many leading bytes the fingerprint covers: min(FINGERPRINT_BYTES, offset). */
  readonly headLength: number;
  /** sha256 (hex) of those bytes. */
  readonly headSha256: string;
}

export function fingerprint(head: Uint8Array): string {
  return createHash('sha256').update(head).digest('hex');
}

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/**
 * Reads a checkpoint. Undefined when the file does not exist; throws with a message naming the
 * file and the fix when it exists but is not a checkpoint (never silently starts over).
 */
export function readFollowCheckpoint(file: string): FollowCheckpoint | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (typeof err === 'object' && err !== null && 'code' in err && err.code === 'ENOENT') return undefined;
    throw new Error(`--checkpoint ${file}: cannot read: ${errorText(err)} — check the path and permissions`, {
      cause: err,
    });
  }
  const bad = (why: string): Error =>
    new Error(
      `--checkpoint ${file}: ${why} — it is not a checkpoint this version wrote; delete it to read the followed file from the start`,
    );
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('not JSON (torn or edited?)');
  }
  if (typeof value !== 'object' || value === null) throw bad('not a JSON object');
  const v = value as Record<string, unknown>;
  if (v.version !== CHECKPOINT_VERSION) throw bad(`unknown version ${JSON.stringify(v.version)}`);
  if (typeof v.path !== 'string') throw bad('"path" is missing');
  for (const key of ['dev', 'ino', 'offset', 'headLength'] as const) {
    if (!isCount(v[key])) throw bad(`"${key}" is not a non-negative integer`);
  }
  if (typeof v.headSha256 !== 'string' || !/^[0-9a-f]{64}$/.test(v.headSha256))
    throw bad('"headSha256" is not a sha256 hex digest');
  return {
    path: v.path,
    dev: v.dev as number,
    ino: v.ino as number,
    offset: v.offset as number,
    headLength: v.headLength as number,
    headSha256: v.headSha256,
  };
}

/** Writes a checkpoint atomically (creating its directory): a crash leaves either the previous or this one. */
export function writeFollowCheckpoint(file: string, checkpoint: FollowCheckpoint): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify({ version: CHECKPOINT_VERSION, ...checkpoint }) + '\n');
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** What the writer needs of a followed file (see follow-file-input.ts). */
export interface CheckpointedFile {
  readonly dev: number;
  readonly ino: number;
  /** Its first bytes as far as they have been read. */
  head(): Buffer;
}

export interface CheckpointWriterOptions {
  /** The checkpoint file. */
  readonly file: string;
  /** The followed path it is about. */
  readonly path: string;
  readonly counters: Counters;
  readonly logger: Logger;
}

/**
 * Records progress in a followed file: `acknowledgerFor(file, end)` is a batch's acknowledge().
 * A write that fails is warned about once (until one succeeds) and counted
 * (`checkpoint_write_failures`); reading goes on.
 */
export function createCheckpointWriter(options: CheckpointWriterOptions): {
  acknowledgerFor(file: CheckpointedFile, end: number): () => void;
} {
  const { counters, logger } = options;
  let warned = false;
  let saved: { file: CheckpointedFile; end: number } | undefined;
  const save = (file: CheckpointedFile, end: number): void => {
    if (saved && saved.file === file && saved.end === end) return;
    const head = file.head();
    const headLength = Math.min(FINGERPRINT_BYTES, end, head.length);
    try {
      writeFollowCheckpoint(options.file, {
        path: options.path,
        dev: file.dev,
        ino: file.ino,
        offset: end,
        headLength,
        headSha256: fingerprint(head.subarray(0, headLength)),
      });
      saved = { file, end };
      warned = false;
    } catch (err) {
      counters.add('checkpoint_write_failures');
      if (warned) return;
      warned = true;
      logger.warn(
        `--checkpoint ${options.file}: cannot write: ${errorText(err)} — ` +
          'a restart would read the followed file again from the last checkpoint written; check the directory and its permissions',
      );
    }
  };
  return { acknowledgerFor: (file, end) => () => save(file, end) };
}
