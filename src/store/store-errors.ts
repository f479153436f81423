/** Errors of the store that callers tell apart: the server maps them to HTTP/gRPC statuses, the CLI to messages. */
import type { ConformanceIssue } from '../profiles/validation/conformance-validator.js';

/** How many validator findings the message lists (all are kept in `issues`). */
const MAX_ISSUES_IN_MESSAGE = 10;

/** The conformance validator rejected the whole request (or every profile in it): HTTP 400 / INVALID_ARGUMENT. */
export class InvalidRequestError extends Error {
  override readonly name = 'InvalidRequestError';
  constructor(readonly issues: readonly ConformanceIssue[]) {
    super(describeIssues(issues));
  }
}

/** Another process holds the data directory. */
export class StoreLockedError extends Error {
  override readonly name = 'StoreLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
    detail: string,
  ) {
    super(
      `data directory ${dir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`} (${detail}); ` +
        `stop that serve, or pass another --data directory`,
    );
  }
}

/** The data directory or database file cannot be used (unwritable, full, corrupt); the message names the fix. */
export class StoreDirectoryError extends Error {
  override readonly name = 'StoreDirectoryError';
  constructor(
    readonly dir: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** One line per finding, capped, for error messages and partial-success texts. */
export function describeIssues(issues: readonly ConformanceIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => `${i.path}: ${i.message}`);
  const more =
    issues.length > MAX_ISSUES_IN_MESSAGE ? [`… and ${issues.length - MAX_ISSUES_IN_MESSAGE} more`] : [];
  return `request does not conform (${issues.length} issue${issues.length === 1 ? '' : 's'}): ${[...shown, ...more].join('; ')}`;
}

/** A query's selection cannot be answered (unknown profile type or filter key, malformed trace id): HTTP 400. */
export class InvalidSelectionError extends Error {
  override readonly name = 'InvalidSelectionError';
  constructor(
    /** The selection field at fault: `type`, `traceId`, `spanId`, `from`/`to` or the filter key. */
    readonly parameter: string,
    message: string,
  ) {
    super(message);
  }
}
