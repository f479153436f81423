import { readFileSync } from 'node:fs';
import type { ResourceConfig } from '../../src/config/exporter-config.js';
import type { GadgetRow } from '../../src/gadget-bridge/gadget-row.js';
import type { ProfileSpec } from '../../src/gadget-bridge/profile-spec.js';
import type { RowBatch } from '../../src/gadget-bridge/row-batch.js';

export const EXAMPLES_PATH = new URL('../../../shared/data/ig-profile_cpu-examples.jsonl', import.meta.url).pathname;
export const BUNDLED_CAPTURE_PATH = new URL('../../examples/profile_cpu-capture.jsonl', import.meta.url).pathname;

export const DEFAULT_RESOURCE_CONFIG: ResourceConfig = {
  groupBy: 'process',
  serviceName: ['label:app.kubernetes.io/name', 'label:app', 'owner', 'k8s.container.name', 'container.name', 'env', 'process.executable.name'],
  attributes: {},
};

/**
 * The example lines parsed with plain JSON.parse: fine for the fields these tests read
 * (the lossless parser has its own tests).
 */
export function exampleEmissions(): GadgetRow[][] {
  return readFileSync(EXAMPLES_PATH, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as GadgetRow[]);
}

export function batchOf(spec: ProfileSpec, rows: readonly GadgetRow[], startNs: bigint, endNs: bigint, origin = 'test'): RowBatch {
  return { spec, rows, windowStartUnixNano: startNs, windowEndUnixNano: endNs, origin };
}
