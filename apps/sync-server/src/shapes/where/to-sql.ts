/**
 * Renders an analysed WHERE expression back to SQL for the snapshot query. The SQL is produced
 * from our validated tree (identifiers quoted, literals re-quoted, params as typed `$n`), never
 * by pasting the client's text, so nothing outside the validated subset can reach Postgres.
 * Text ordering uses COLLATE "C" so the snapshot agrees with the in-process evaluator.
 */
import type { Expr } from "./ast";
import type { SqlType, Value } from "./types";
import { quoteIdentifier, quoteLiteral } from "../identifiers";
import { pgText } from "./pg-text";

/** `paramOffset` shifts `$n` (a subset WHERE's params follow the shape's own). */
export function toSql(expr: Expr, paramOffset = 0): string {
  const render = (inner: Expr) => toSql(inner, paramOffset);
  const collated = (inner: Expr) => {
    const sql = render(inner);
    return inner.type.family === "text" && inner.type.dims === 0
      ? `(${sql} COLLATE "C")`
      : sql;
  };
  switch (expr.kind) {
    case "column":
      return quoteIdentifier(expr.name);
    case "const":
      return expr.value === null
        ? `NULL::${typeSql(expr.type)}`
        : `${quoteLiteral(literalText(expr.value, expr.type))}::${typeSql(expr.type)}`;
    case "param":
      return `$${expr.index + paramOffset}::${typeSql(expr.type)}`;
    case "cast":
      return `(${render(expr.arg)})::${typeSql(expr.type)}`;
    case "and":
    case "or":
      return `(${expr.args.map((item) => render(item)).join(expr.kind === "and" ? " AND " : " OR ")})`;
    case "not":
      return `(NOT ${render(expr.arg)})`;
    case "isNull":
      return `(${render(expr.arg)} IS ${expr.negated ? "NOT " : ""}NULL)`;
    case "boolTest":
      return `(${render(expr.arg)} IS ${expr.negated ? "NOT " : ""}${expr.test.toUpperCase()})`;
    case "compare":
      return `(${collated(expr.left)} ${expr.op} ${collated(expr.right)})`;
    case "distinct":
      return `(${render(expr.left)} IS ${expr.negated ? "NOT " : ""}DISTINCT FROM ${render(expr.right)})`;
    case "arith":
      return `(${render(expr.left)} ${expr.op} ${render(expr.right)})`;
    case "negate":
      return `(- ${render(expr.arg)})`;
    case "concat":
      return `(${render(expr.left)} || ${render(expr.right)})`;
    case "like":
      return `(${render(expr.arg)} ${expr.negated ? "NOT " : ""}${expr.caseInsensitive ? "ILIKE" : "LIKE"} ${render(expr.pattern)})`;
    case "in":
      return `(${render(expr.arg)} ${expr.negated ? "NOT " : ""}IN (${expr.list.map((item) => render(item)).join(", ")}))`;
    case "quantified":
      return `(${collated(expr.left)} ${expr.op} ${expr.quantifier.toUpperCase()} (${render(expr.array)}))`;
    case "arrayOp":
      return `(${render(expr.left)} ${expr.op} ${render(expr.right)})`;
    case "call":
      return `${expr.name}(${expr.args.map((item) => render(item)).join(", ")})`;
  }
}

function typeSql(type: SqlType): string {
  return `${quoteIdentifier(type.name)}${"[]".repeat(type.dims)}`;
}

/**
 * Postgres input text for a value we parsed ourselves: its output text, which Postgres reads
 * back as the same value (BC dates, years past 9999 and float4 digits included).
 */
function literalText(value: Value, type: SqlType): string {
  if (Array.isArray(value))
    return `{${value
      .map((item) =>
        item === null
          ? "NULL"
          : `"${literalText(item, { ...type, dims: 0 })
              .replaceAll("\\", "\\\\")
              .replaceAll('"', '\\"')}"`,
      )
      .join(",")}}`;
  if (value === null) return "NULL";
  return pgText(value, type);
}
