/**
 * What keeps the process running while a session has work: one ref'd handle, owned by the session
 * from its start until its result is known. The waits inside a run (reconnect backoff, flush and
 * retry timers, I/O guards) are unref'd, as waits should be: they must not hold a finished run or a
 * library user open. But a pending promise does not keep Node alive, so without this handle a run
 * whose only next event is such a timer (IG's connection lost, the backend down) would exit 0 in the
 * middle of its work, with no report.
 */

/** The handle never needs to fire; only its being ref'd matters. 2^30 ms stays below Node's 2^31 − 1 limit. */
const KEEP_ALIVE_INTERVAL_MS = 2 ** 30;

/** Holds the process open until the returned release function is called (idempotent). */
export function keepProcessAlive(): () => void {
  const handle = setInterval(() => undefined, KEEP_ALIVE_INTERVAL_MS);
  return () => clearInterval(handle);
}
