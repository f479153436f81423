import { readFileSync } from 'node:fs';
import type { ResourceConfig } from '../../src/config/exporter-config.js';
import { DEFAULT_RESOURCE } from '../../src/config/load-config.js';
import type { FieldRecord, GadgetRow } from '../../src/rows/gadget-row.js';
import { gadgetRow, gadgetRows, rowFields } from '../../src/rows/gadget-row.js';
import { parseLosslessJson } from '../../src/gadget-bridge/json/lossless-json.js';
import type { ProfileSpec } from '../../src/rows/profile-spec.js';
import type { RowBatch } from '../../src/rows/row-batch.js';
import { IG_EXAMPLES_PATH } from './fixture-paths.js';

export const EXAMPLES_PATH = IG_EXAMPLES_PATH;
export const BUNDLED_CAPTURE_PATH = new URL('../../examples/profile_cpu-capture.jsonl', import.meta.url)
  .pathname;

/** The resource settings an exporter gets by default. */
export const DEFAULT_RESOURCE_CONFIG: ResourceConfig = DEFAULT_RESOURCE;

/** The example lines, parsed losslessly (kernel_ip and friends exceed 2^53). */
export function exampleEmissions(path = EXAMPLES_PATH): GadgetRow[][] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => gadgetRows(parseLosslessJson(l) as FieldRecord[]));
}

/** A copy of `base` with `fields` added or replaced. */
export function rowWith(base: GadgetRow, fields: FieldRecord): GadgetRow {
  return gadgetRow({ ...rowFields(base), ...fields });
}

export function batchOf(
  spec: ProfileSpec,
  rows: readonly GadgetRow[],
  startNs: bigint,
  endNs: bigint,
  origin = 'test',
): RowBatch {
  return { spec, rows, windowStartUnixNano: startNs, windowEndUnixNano: endNs, origin };
}
