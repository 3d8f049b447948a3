/**
 * Row keys exactly as Electric builds them (`replication/changes.ex build_key`):
 * `"schema"."table"/"pk1"/"pk2"`, with `/` doubled inside values and `_` for NULL parts.
 * Snapshot rows and replicated changes must produce byte-identical keys for the same row.
 */
export function relationPrefix(schema: string, table: string): string {
  return `"${escapeRelation(schema)}"."${escapeRelation(table)}"`;
}

function escapeRelation(name: string): string {
  return name.replaceAll("/", "//").replaceAll(".", "..");
}

export function buildKey(
  prefix: string,
  primaryKey: readonly string[],
  row: Readonly<Record<string, string | null>>,
): string {
  let key = prefix;
  for (const column of primaryKey) {
    const value = row[column];
    key +=
      value === null || value === undefined
        ? "/_"
        : `/"${value.replaceAll("/", "//")}"`;
  }
  return key;
}
