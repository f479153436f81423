import type { ExportResponse } from '../export-response.js';
import { errorCode, errorText } from '../../util/error-text.js';

/**
 * Classifies file-system errors of the local sinks: a full disk or exhausted descriptors may clear
 * up, so the batch is retried; a wrong path or missing permission will not, so it is dropped
 * (and counted by the retry loop) with a message that says what to change.
 */

/** Error codes that may go away by themselves (space freed, descriptors released). */
export const TRANSIENT_IO_CODES: ReadonlySet<string> = new Set([
  'ENOSPC',
  'EDQUOT',
  'EMFILE',
  'ENFILE',
  'EAGAIN',
  'EBUSY',
  'EINTR',
  'EIO',
  'ETIMEDOUT',
]);

const HINTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the file system is full; free space or point the exporter at another volume (will retry)',
  EDQUOT: 'the disk quota is exhausted; raise the quota or free space (will retry)',
  EMFILE: 'this process has too many open files; raise `ulimit -n` (will retry)',
  ENFILE: 'the system has too many open files (will retry)',
  EAGAIN: 'the resource is temporarily unavailable (will retry)',
  EBUSY: 'the resource is busy (will retry)',
  EINTR: 'the call was interrupted (will retry)',
  EIO: 'an I/O error occurred on the device (will retry)',
  ETIMEDOUT: 'the file system timed out (will retry)',
  EACCES: 'permission denied; make it writable by this user (uid %UID%) or choose another path',
  EPERM: 'operation not permitted; make it writable by this user (uid %UID%) or choose another path',
  EROFS: 'the file system is read-only; choose a writable path (e.g. a mounted volume)',
  ENOTDIR: 'a component of the path is a file, not a directory; choose a directory path',
  EISDIR: 'the path is a directory; name a file instead',
  ENOENT: 'a component of the path does not exist',
  ENAMETOOLONG: 'the path is too long; choose a shorter one',
  EEXIST: 'the path exists and is not a directory; choose another path',
  EPIPE: 'the reading end of the pipe was closed (e.g. `| head` exited)',
};

/**
 * @param action what was attempted, e.g. `cannot write /var/lib/x.pb.gz`
 * @param configKey the setting to change, e.g. `exporters.pprof.directory`
 */
export function classifyIoError(error: unknown, action: string, configKey: string): ExportResponse {
  const code = errorCode(error);
  const uid = typeof process.getuid === 'function' ? String(process.getuid()) : '?';
  const hint = code !== undefined ? HINTS[code]?.replace('%UID%', uid) : undefined;
  const detail = errorText(error);
  // Unknown error codes are retried (bounded by retry.max_elapsed); errors without a code are bugs.
  const transient = code !== undefined && (TRANSIENT_IO_CODES.has(code) || HINTS[code] === undefined);
  const fix = hint ?? (transient ? 'will retry' : 'check the path');
  const err = new Error(
    `${action}: ${code ?? 'error'} (${detail}); ${fix}${transient ? '' : ` [${configKey}]`}`,
    { cause: error },
  );
  return transient ? { status: 'retryable', error: err } : { status: 'failure', error: err };
}
