import type { FieldValue, GadgetRow } from '../../rows/gadget-row.js';
import { fieldAccessor } from '../../rows/gadget-row.js';
import type { ProfileSpec } from '../../rows/profile-spec.js';
import { INT64_MAX } from '../model/int64.js';
import type { StackFieldPlan } from './stack-field-plan.js';
import { stackFieldPlan } from './stack-field-plan.js';

/**
 * What makes a row unusable for a profile, decided once for every input (JSON lines, IG's binary
 * gRPC rows): its value must be a count that fits OTLP's int64 `Sample.values`, and its stack
 * fields, when present, must be stack text. Such rows are dropped and counted as
 * `rows_dropped{reason}`, never wrapped into another number or read as "no stack collected".
 */

/** A sample value: a number while exact (≤ 2^53 − 1), a bigint beyond. */
export type SampleValue = number | bigint;

export type RowDropReason = 'invalid_value' | 'value_out_of_range' | 'invalid_stack';

export interface RowProblem {
  readonly reason: RowDropReason;
  /** Names the field and what it held, for a warning. */
  readonly detail: string;
}

function show(value: FieldValue | undefined): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object' && value !== null) return 'an object';
  return JSON.stringify(value);
}

/** The row's value as an exact non-negative int64, or why it is not one. */
export function sampleValueOf(raw: FieldValue | undefined, field: string): SampleValue | RowProblem {
  if (typeof raw === 'number') {
    if (Number.isSafeInteger(raw) && raw >= 0) return raw;
    // An integer written with an exponent (`1e19`) is a double: exact, but possibly beyond 2^53.
    if (Number.isInteger(raw) && raw > 0) return bigValue(BigInt(raw), field);
  } else if (typeof raw === 'bigint') {
    return raw >= 0n ? bigValue(raw, field) : invalidValue(raw, field);
  }
  return invalidValue(raw, field);
}

function bigValue(value: bigint, field: string): SampleValue | RowProblem {
  if (value > INT64_MAX)
    return {
      reason: 'value_out_of_range',
      detail: `${field} = ${value} does not fit a profile value (int64, at most ${INT64_MAX})`,
    };
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

function invalidValue(raw: FieldValue | undefined, field: string): RowProblem {
  return { reason: 'invalid_value', detail: `${field} is ${show(raw)}, not a non-negative integer` };
}

/** A stack field holding something other than text (absent, null or "" mean no stack collected). */
export function stackProblem(plan: readonly StackFieldPlan[], row: GadgetRow): RowProblem | undefined {
  for (const { field, read } of plan) {
    const v = read(row);
    if (v !== undefined && v !== null && typeof v !== 'string')
      return { reason: 'invalid_stack', detail: `${field} is ${show(v)}, not stack text` };
  }
  return undefined;
}

/** Checks rows of `spec`: why a row cannot become a sample, or undefined when it can. */
export function rowChecker(spec: ProfileSpec): (row: GadgetRow) => RowProblem | undefined {
  const readValue = fieldAccessor(spec.valueField);
  const plan = stackFieldPlan(spec);
  return (row) => {
    const value = sampleValueOf(readValue(row), spec.valueField);
    return typeof value === 'object' ? value : stackProblem(plan, row);
  };
}

/** `a + b` exactly, or undefined when the sum would not fit int64 (the caller starts a new value). */
export function addSampleValues(a: SampleValue, b: SampleValue): SampleValue | undefined {
  if (typeof a === 'number' && typeof b === 'number') {
    const sum = a + b;
    if (sum <= Number.MAX_SAFE_INTEGER) return sum;
  }
  const sum = BigInt(a) + BigInt(b);
  return sum > INT64_MAX ? undefined : sum;
}
