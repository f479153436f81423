/** Smallest value an OTLP int64 field holds. */
export const INT64_MIN = -(1n << 63n);
/** Largest value an OTLP int64 field (`Sample.values`, timestamps, durations) holds. */
export const INT64_MAX = (1n << 63n) - 1n;
