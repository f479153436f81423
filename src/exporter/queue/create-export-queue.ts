import type { QueueConfig } from '../../config/exporter-config.js';
import type { Logger } from '../../observability/logger.js';
import type { Clock } from '../../util/clock.js';
import type { ExportQueue, QueueDrop } from './export-queue.js';
import { createMemoryQueue } from './memory-queue.js';
import { createPersistentQueue } from './persistent-queue.js';

/** The one place an exporter's `queue.*` keys choose its queue: on disk with `queue.directory`, else in memory. */

export interface ExportQueueDeps {
  /** Every batch the queue drops by itself (full, damaged file). */
  readonly onDrop: (drop: QueueDrop) => void;
  readonly logger: Logger;
  readonly clock?: Clock;
}

export function createExportQueue(config: QueueConfig, deps: ExportQueueDeps): ExportQueue {
  const common = {
    limits: { maxBytes: config.maxBytes, maxRequests: config.maxRequests },
    onDrop: deps.onDrop,
    ...(deps.clock ? { clock: deps.clock } : {}),
  };
  return config.directory
    ? createPersistentQueue({ ...common, directory: config.directory, logger: deps.logger })
    : createMemoryQueue(common);
}
