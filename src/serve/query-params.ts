import type { Selection } from '../store/profile-store.js';
import {
  SPAN_ID_HEX,
  SPAN_ID_HEX_DIGITS,
  TRACE_ID_HEX,
  TRACE_ID_HEX_DIGITS,
} from '../profiles/model/otlp-ids.js';

/**
 * The query parameters of every /api endpoint, parsed in this one place: the selection (`from`, `to`,
 * `type`, `traceId`, `spanId`, attribute filters), the diff's second selection (`diff.*`) and the
 * per-endpoint numbers. Syntax only; store-dependent checks (known type, known key) are in
 * selection-check.ts.
 */

/** Parameters that are not attribute filters. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'from',
  'to',
  'type',
  'traceId',
  'spanId',
  'maxNodes',
  'limit',
  'step',
  'function',
]);
export const DIFF_PREFIX = 'diff.';

/** A bad parameter: answered 400 with the message (which names the parameter and the fix). */
export class QueryParamError extends Error {
  override readonly name = 'QueryParamError';
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
  }
}

const UNIX_MS = /^\d{1,16}$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;
const NS_PER_MS = 1_000_000n;

/** `from`/`to`: RFC 3339 (nanosecond fractions kept) or Unix milliseconds, as Unix nanoseconds. */
export function parseTimeParam(param: string, value: string): bigint {
  const text = value.trim();
  if (UNIX_MS.test(text)) return BigInt(text) * NS_PER_MS;
  const m = RFC3339.exec(text);
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${(m[4] ?? 'Z').toUpperCase()}`) : Number.NaN;
  if (!m || !Number.isFinite(ms)) {
    throw new QueryParamError(
      param,
      `${param}=${JSON.stringify(value)} is not a time; use RFC 3339 (2026-12-07T10:00:00Z) or Unix milliseconds (1796637600000)`,
    );
  }
  const fraction = BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return BigInt(ms) * NS_PER_MS + fraction;
}

/** A positive integer parameter within [1, max]. */
export function parseCountParam(params: URLSearchParams, param: string, max: number): number | undefined {
  const value = params.get(param);
  if (value === null || value === '') return undefined;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) {
    throw new QueryParamError(
      param,
      `${param}=${JSON.stringify(value)}: expected a whole number from 1 to ${max}`,
    );
  }
  return n;
}

interface SelectionParts {
  from?: bigint;
  to?: bigint;
  type?: string;
  traceId?: string;
  spanId?: string;
  filters: Map<string, string[]>;
}

function applyParam(parts: SelectionParts, key: string, value: string, param: string): void {
  switch (key) {
    case 'from':
    case 'to':
      if (value === '') delete parts[key];
      else parts[key] = parseTimeParam(param, value);
      return;
    case 'type':
      if (value === '') delete parts.type;
      else parts.type = value;
      return;
    case 'traceId':
    case 'spanId': {
      const id = value.trim().toLowerCase();
      if (id === '') {
        delete parts[key];
        return;
      }
      const [pattern, digits] =
        key === 'traceId' ? [TRACE_ID_HEX, TRACE_ID_HEX_DIGITS] : [SPAN_ID_HEX, SPAN_ID_HEX_DIGITS];
      if (!pattern.test(id)) {
        throw new QueryParamError(
          param,
          `${param}=${JSON.stringify(value)} is not a ${key === 'traceId' ? 'trace' : 'span'} id; expected ${digits} hex digits`,
        );
      }
      parts[key] = id;
      return;
    }
    default:
      if (RESERVED_PARAMS.has(key)) return; // per-endpoint numbers, read by the endpoint
      if (key === '') throw new QueryParamError(param, 'a filter needs a key: KEY=VALUE');
      if (value === '') {
        parts.filters.delete(key); // diff.KEY= removes A's filter on KEY
        return;
      }
      parts.filters.set(key, [...(parts.filters.get(key) ?? []), value]);
  }
}

function finish(parts: SelectionParts, prefix: string): Selection {
  if (parts.spanId !== undefined && parts.traceId === undefined) {
    throw new QueryParamError(
      `${prefix}spanId`,
      `${prefix}spanId needs ${prefix}traceId: a span id selects within one trace`,
    );
  }
  if (parts.from !== undefined && parts.to !== undefined && parts.from >= parts.to) {
    throw new QueryParamError(
      `${prefix}from`,
      `${prefix}from must be before ${prefix}to (the range is [from, to))`,
    );
  }
  return { ...parts, filters: parts.filters };
}

/** Selection A: every non-reserved, non-`diff.` parameter. */
export function parseSelection(params: URLSearchParams): Selection {
  const parts: SelectionParts = { filters: new Map() };
  for (const [key, value] of params) {
    if (key.startsWith(DIFF_PREFIX)) continue;
    applyParam(parts, key, value, key);
  }
  return finish(parts, '');
}

/** Selection B of a diff: A with each `diff.*` parameter replacing A's (`diff.KEY=` drops A's KEY filter). */
export function parseDiffSelection(params: URLSearchParams, a: Selection): Selection {
  const parts: SelectionParts = {
    ...(a.from !== undefined ? { from: a.from } : {}),
    ...(a.to !== undefined ? { to: a.to } : {}),
    ...(a.type !== undefined ? { type: a.type } : {}),
    ...(a.traceId !== undefined ? { traceId: a.traceId } : {}),
    ...(a.spanId !== undefined ? { spanId: a.spanId } : {}),
    filters: new Map([...a.filters].map(([k, v]) => [k, [...v]])),
  };
  const replaced = new Set<string>();
  for (const [param, value] of params) {
    if (!param.startsWith(DIFF_PREFIX)) continue;
    const key = param.slice(DIFF_PREFIX.length);
    // Repeated diff.KEY values are OR-ed among themselves, replacing A's values for KEY.
    if (!RESERVED_PARAMS.has(key) && !replaced.has(key)) {
      parts.filters.delete(key);
      replaced.add(key);
    }
    applyParam(parts, key, value, param);
  }
  return finish(parts, DIFF_PREFIX);
}
