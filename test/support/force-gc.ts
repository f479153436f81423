import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection without starting node with --expose-gc: the flag is set at run time
 * and `gc` is picked up from a fresh context. Lets a test prove an object is no longer referenced.
 */
export async function forceGc(): Promise<void> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // WeakRef targets stay alive until the end of the current job; collect after it.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
}
