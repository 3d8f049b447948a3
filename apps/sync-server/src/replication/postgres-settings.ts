/**
 * Session settings Electric applies to every connection (`postgres.ex`), so that values printed
 * by the snapshot query and by pgoutput on the replication connection are byte-identical and
 * match what the client's parsers expect.
 */
export const SESSION_OPTIONS = [
  "-c DateStyle=ISO,DMY",
  "-c TimeZone=UTC",
  "-c extra_float_digits=1",
  "-c IntervalStyle=iso_8601",
  "-c bytea_output=hex",
].join(" ");

/** A pg type-parser table that returns every column as its Postgres text output. */
export const RAW_TEXT_TYPES = {
  getTypeParser: () => (value: string) => value,
};
