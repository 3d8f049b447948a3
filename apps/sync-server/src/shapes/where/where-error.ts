/** How the WHERE analysis reports a clause it refuses, worded and located as Electric does. */
import type { Node } from "libpg-query";

/**
 * A clause Electric would refuse, worded and located the way Electric reports it
 * (`replication/eval/parser.ex`): most problems are prefixed `At location N: `, N being the
 * offset in the clause of the node at fault (0 when there is none); a few that Electric finds
 * before walking the tree carry no location (`location === null`).
 */
export class WhereClauseError extends Error {
  override name = "WhereClauseError";
  /** Undefined until the enclosing node (or the clause, 0) gives it one. */
  location: number | null | undefined;

  constructor(
    readonly reason: string,
    location?: number | null,
  ) {
    super(reason);
    if (location !== undefined) this.at(location);
  }

  at(location: number | null): this {
    this.location = location;
    this.message =
      location === null
        ? this.reason
        : `At location ${location}: ${this.reason}`;
    return this;
  }
}

/** A column whose type the evaluator cannot compare exactly like Postgres. */
export interface UnsupportedColumn {
  unsupportedType: string;
}

/**
 * Why a column can't be used. Electric has no timetz/json/jsonb/bytea operators either;
 * rather than evaluate any of them differently from the snapshot query, the shape is refused.
 */
export function unsupportedTypeMessage(
  name: string,
  { unsupportedType }: UnsupportedColumn,
): string {
  const reason: Record<string, string> = {
    timetz:
      "timetz is not supported in WHERE clauses (Electric does not support it either)",
    json: "json values cannot be compared in WHERE clauses (JSON operators are not supported, as in Electric)",
    jsonb:
      "jsonb values cannot be compared in WHERE clauses (JSON operators are not supported, as in Electric)",
  };
  return `column ${name} has type ${unsupportedType}: ${reason[unsupportedType] ?? "this type cannot be used in a WHERE clause"}`;
}

/** Electric parses `SELECT 1 WHERE <clause>` and reports node offsets relative to the clause. */
export const WHERE_PREFIX = "SELECT 1 WHERE ";

/** A node's offset in the clause, as Electric computes it (`max(loc - prefix, 0)`). */
export function clauseLocation(node: Node): number | undefined {
  const inner: unknown = Object.values(node)[0];
  const location =
    inner && typeof inner === "object" && "location" in inner
      ? inner.location
      : undefined;
  return typeof location === "number"
    ? Math.max(location - WHERE_PREFIX.length, 0)
    : undefined;
}
