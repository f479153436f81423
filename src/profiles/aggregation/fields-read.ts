import type { ResourceConfig } from '../../config/exporter-config.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import { resourceFieldsRead } from './resource-attributes.js';
import { aggregatorFieldsRead } from './sample-aggregator.js';

/**
 * The row fields the profiles pipelines read for rows of `spec`: the aggregator's (value, stacks,
 * sample attributes, links) and each exporter's resource resolver's. A profile_cpu row carries 47
 * fields, of which a default pipeline reads 22; decoding only these (`compileRowDecoder`'s
 * projection) about halves the gRPC path's decoding inside the pipeline.
 */
export function pipelineFieldsRead(
  spec: ProfileSpec,
  resources: readonly ResourceConfig[],
): ReadonlySet<string> {
  return new Set([...aggregatorFieldsRead(spec), ...resources.flatMap(resourceFieldsRead)]);
}
