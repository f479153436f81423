/**
 * What was thrown, as text or as an Error. JavaScript lets anything be thrown, and some
 * dependencies reject with plain objects (`ws` hands out an ErrorEvent-like `{ error, message }`),
 * so every log line and wrapped error goes through these instead of an inline `instanceof` test.
 */

/** The message of anything thrown, for a log line or an error that wraps it. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) {
    const event = err as { error?: unknown; message?: unknown };
    if (event.error instanceof Error) return event.error.message;
    if (typeof event.message === 'string') return event.message;
  }
  return String(err);
}

/** Anything thrown, as an Error (kept as is when it already is one, so its stack survives). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(errorText(err));
}

/** The string code of a system error (`ENOENT`, `ENOSPC`, `EPIPE`), when there is one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}
