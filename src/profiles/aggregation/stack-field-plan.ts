import type { FieldAccessor } from '../../rows/gadget-row.js';
import { fieldAccessor } from '../../rows/gadget-row.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import { isKernelStackField } from './stack-frames.js';

/**
 * How the aggregator reads each stack field of a profile spec, worked out once per spec: every row
 * reads these fields, and deriving them per row (a regex, slices, sibling names) showed up in
 * profiles of the ingest hot path.
 */
export interface StackFieldPlan {
  readonly field: string;
  readonly read: FieldAccessor;
  readonly kernel: boolean;
  /** For a user stack's `….symbols`: readers of its sibling `….addresses` and `….buildid` fields. */
  readonly siblings: { readonly addresses: FieldAccessor; readonly buildId: FieldAccessor } | undefined;
  /** The dotted names of the fields read: `field`, then the siblings' (`….addresses`, `….buildid`). */
  readonly names: readonly string[];
}

/** Specs are long-lived objects (presets, or one per datasource), so their plans are kept with them. */
const plans = new WeakMap<ProfileSpec, readonly StackFieldPlan[]>();

export function stackFieldPlan(spec: ProfileSpec): readonly StackFieldPlan[] {
  let plan = plans.get(spec);
  if (plan === undefined) {
    plan = spec.stackFields.map((field) => {
      const kernel = isKernelStackField(field);
      const parent =
        !kernel && field.endsWith('.symbols') ? field.slice(0, field.lastIndexOf('.') + 1) : undefined;
      const siblingNames = parent === undefined ? [] : [`${parent}addresses`, `${parent}buildid`];
      return {
        field,
        read: fieldAccessor(field),
        kernel,
        siblings:
          parent === undefined
            ? undefined
            : { addresses: fieldAccessor(siblingNames[0]!), buildId: fieldAccessor(siblingNames[1]!) },
        names: [field, ...siblingNames],
      };
    });
    plans.set(spec, plan);
  }
  return plan;
}

const keyFields = new WeakMap<readonly StackFieldPlan[], readonly FieldAccessor[]>();

/** Every field a plan reads, in plan order (`names` of each stack field): what identifies a row's stack. */
export function stackKeyFields(plan: readonly StackFieldPlan[]): readonly FieldAccessor[] {
  let fields = keyFields.get(plan);
  if (fields === undefined) {
    fields = plan.flatMap(({ names }) => names).map(fieldAccessor);
    keyFields.set(plan, fields);
  }
  return fields;
}
