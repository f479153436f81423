import type { Counters } from '../../observability/counters.js';
import type { Logger } from '../../observability/logger.js';

/** What the OTLP transports need besides their config. */
export interface OtlpTransportDeps {
  readonly logger: Logger;
  readonly counters: Counters;
}
