/**
 * Size limits of user-entered text, in UTF-16 code units (what `string.length` counts). They
 * bound what one mutation can write; the HTTP layer also caps request bodies (see @repo/api).
 */
export const LIMITS = {
  projectName: 120,
  projectDescription: 5_000,
  issueTitle: 300,
  issueDescription: 50_000,
  commentBody: 20_000,
  /** Fractional-index keys stay short in practice; a long one means a client bug. */
  sortKey: 128,
} as const;

/**
 * Timestamps the inputs accept: years 1–9999 (UTC), what Postgres `timestamptz` and JSON both
 * round-trip. Outside it they disagree: Postgres refuses the ISO text of year 0 and before
 * (`0000-…`, `-000001-…`: SQLSTATE 22008/22009), and stores year 10000 and later but writes it
 * back as text (`10000-01-01 00:00:00+00`) that the driver and `Date` cannot read (`null`).
 */
export const TIMESTAMP_RANGE = {
  min: new Date("0001-01-01T00:00:00.000Z"),
  max: new Date("9999-12-31T23:59:59.999Z"),
} as const;
