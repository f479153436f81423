import { after } from 'node:test';
import type { IgDaemonDouble, IgDaemonDoubleOptions } from './ig-daemon-double.js';
import { startIgDaemonDouble } from './ig-daemon-double.js';

/**
 * Starts IG daemon doubles for one test file and closes every one of them after it (node:test
 * `after`), however its tests ended. Call once at the top level of the file.
 */
export function igDaemonDoublesForFile(): (options?: IgDaemonDoubleOptions) => Promise<IgDaemonDouble> {
  const started: IgDaemonDouble[] = [];
  after(async () => {
    for (const d of started) await d.close();
  });
  return async (options = {}) => {
    const d = await startIgDaemonDouble(options);
    started.push(d);
    return d;
  };
}
