/**
 * Postgres' date/time units and limits as the evaluator counts them: timestamps are
 * microseconds since 2000-01-01, and ±infinity are the extremes of their int64.
 */
export const MICROS_PER_SECOND = 1_000_000n;
export const MICROS_PER_DAY = 86_400n * MICROS_PER_SECOND;
export const TIMESTAMP_INFINITY = 2n ** 63n - 1n;
export const TIMESTAMP_NEGATIVE_INFINITY = -(2n ** 63n);
