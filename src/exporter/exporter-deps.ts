import type { Counters } from '../observability/counters.js';
import type { Logger } from '../observability/logger.js';

/**
 * What every part of an exporter needs besides its config: where it logs and what it counts. The
 * transports, the sinks and the delivery lane all take this one bag.
 */
export interface ExporterDeps {
  readonly logger: Logger;
  readonly counters: Counters;
}
