/**
 * Renders an analysed WHERE expression back to SQL for the snapshot query. The SQL is produced
 * from our validated tree (identifiers quoted, literals re-quoted, params as typed `$n`), never
 * by pasting the client's text, so nothing outside the validated subset can reach Postgres.
 * Text ordering uses COLLATE "C" so the snapshot agrees with the in-process evaluator.
 */
import type { Expr } from "./ast";
import type { SqlType, Value } from "./types";
import { quoteIdentifier, quoteLiteral } from "../identifiers";
import { Decimal } from "./decimal";
import { Interval } from "./interval";
import { timeText } from "./pg-text";

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

/** Postgres input text for a value we parsed ourselves. */
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
  if (value instanceof Decimal || value instanceof Interval)
    return value.toString();
  switch (type.family) {
    case "bool":
      return value ? "true" : "false";
    case "date":
      return typeof value === "number" && Number.isFinite(value)
        ? new Date(value * 86_400_000).toISOString().slice(0, 10)
        : value === Infinity
          ? "infinity"
          : "-infinity";
    case "timestamp":
    case "timestamptz":
      return microsToText(value as bigint, type.family === "timestamptz");
    case "time":
      return typeof value === "bigint" ? timeText(value) : String(value);
    case "float":
    case "numeric":
      return Number.isNaN(value)
        ? "NaN"
        : value === Infinity
          ? "Infinity"
          : value === -Infinity
            ? "-Infinity"
            : String(value);
    default:
      return String(value);
  }
}

function microsToText(micros: bigint, withZone: boolean): string {
  if (micros >= 2n ** 63n - 1n) return "infinity";
  if (micros <= -(2n ** 63n)) return "-infinity";
  const millis = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const extra = micros - millis * 1000n;
  const iso = new Date(Number(millis)).toISOString(); // 2024-01-02T03:04:05.123Z
  return `${iso.slice(0, 23)}${extra.toString().padStart(3, "0")}${withZone ? "+00" : ""}`;
}
