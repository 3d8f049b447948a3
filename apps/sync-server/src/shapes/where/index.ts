/**
 * A shape's WHERE clause: validated and typed once, evaluated per replicated row, rendered to
 * SQL for the snapshot query.
 */
import type { ColumnInfo } from "../table-info";
import type { Expr } from "./ast";
import type { RowText } from "./evaluate";
import type { Value } from "./types";
import { analyzeWhere, WhereClauseError } from "./analyze";
import { matches } from "./evaluate";
import { toSql } from "./to-sql";
import {
  describeType,
  parseValue,
  typeOfColumn,
  ValueSyntaxError,
} from "./types";

export { WhereClauseError } from "./analyze";
export type { RowText } from "./evaluate";

export interface CompiledWhere {
  readonly expr: Expr;
  /** SQL of the clause with `$n` placeholders, for the snapshot query. */
  readonly sql: string;
  /** Param values as text (for the snapshot query), `$1` first. */
  readonly paramTexts: readonly string[];
  readonly paramValues: readonly Value[];
  /** Columns the clause reads; an update that changes none of them keeps its membership. */
  readonly referencedColumns: ReadonlySet<string>;
  matches(row: RowText): boolean;
}

/** Thrown for bad `params` (missing, extra, wrong type); reported under `errors.params`. */
export class WhereParamsError extends Error {
  override name = "WhereParamsError";
}

export function compileWhere(
  where: string,
  columns: readonly ColumnInfo[],
  params: Readonly<Record<string, string>>,
  /** Added to `$n` in the SQL (a subset WHERE's params follow the shape's own). */
  paramOffset = 0,
): CompiledWhere {
  const byName = new Map(columns.map((column) => [column.name, column]));
  const { expr, paramTypes } = analyzeWhere(where, (name) => {
    const column = byName.get(name);
    if (!column) return undefined;
    return typeOfColumn(column) ?? { unsupportedType: column.type };
  });
  const provided = Object.keys(params);
  for (const key of provided) {
    if (!/^[1-9]\d*$/.test(key))
      throw new WhereParamsError(
        `invalid parameter name "${key}"; expected 1, 2, ...`,
      );
  }
  const missing = paramTypes
    .map((_, index) => String(index + 1))
    .filter((key) => !(key in params));
  if (missing.length > 0)
    throw new WhereParamsError(
      `parameters ${missing.map((key) => `$${key}`).join(", ")} are used in the where clause but not provided`,
    );
  const extra = provided.filter((key) => Number(key) > paramTypes.length);
  if (extra.length > 0)
    throw new WhereParamsError(
      `parameters ${extra.map((key) => `$${key}`).join(", ")} were provided but the where clause does not use them`,
    );
  const paramTexts = paramTypes.map(
    (_, index) => params[String(index + 1)] ?? "",
  );
  const paramValues = paramTypes.map((type, index) => {
    try {
      return parseValue(paramTexts[index] ?? "", type);
    } catch (error) {
      if (error instanceof ValueSyntaxError)
        throw new WhereParamsError(
          `$${index + 1} (${describeType(type)}): ${error.message}`,
        );
      throw error;
    }
  });
  const referencedColumns = new Set<string>();
  collectColumns(expr, referencedColumns);
  return {
    expr,
    sql: toSql(expr, paramOffset),
    paramTexts,
    paramValues,
    referencedColumns,
    matches: (row) => matches(expr, row, paramValues),
  };
}

function collectColumns(expr: Expr, into: Set<string>): void {
  if (expr.kind === "column") {
    into.add(expr.name);
    return;
  }
  for (const value of Object.values(expr)) {
    if (Array.isArray(value)) {
      for (const item of value)
        if (item && typeof item === "object" && "kind" in item)
          collectColumns(item as Expr, into);
    } else if (value && typeof value === "object" && "kind" in value) {
      collectColumns(value as Expr, into);
    }
  }
}

export function isWhereError(error: unknown): error is WhereClauseError {
  return error instanceof WhereClauseError;
}
