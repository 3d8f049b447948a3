/**
 * Names for prepared statements, so Postgres parses (and, after a few runs, plans) each of
 * Prisma's statements once per connection instead of once per execution.
 *
 * Only parameterised statements get a name (`BEGIN`, `COMMIT` and other fixed statements stay
 * in the cheaper simple protocol), and only the first `max` distinct texts: a connection keeps
 * every statement it prepared, so raw SQL built from values must not grow that set forever.
 * One name per text, process-wide: pg refuses a name reused for another text.
 *
 * Caveat of prepared statements: a column type changed under a running server makes its
 * prepared statements on that table fail (SQLSTATE 0A000) until the connections are replaced.
 */
export function createStatementNamer(
  max: number,
): (query: { sql: string; args: readonly unknown[] }) => string {
  const names = new Map<string, string>();
  return ({ sql, args }) => {
    if (args.length === 0) return "";
    const known = names.get(sql);
    if (known !== undefined) return known;
    if (names.size >= max) return "";
    const name = `prisma_${names.size}`;
    names.set(sql, name);
    return name;
  };
}
