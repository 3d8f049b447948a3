/**
 * A shape's WHERE clause: validated and typed once, evaluated per replicated row, rendered to
 * SQL for the snapshot query.
 */
import type { ColumnInfo } from "../table-info";
import type { Expr } from "./ast";
import type { RowText } from "./evaluate";
import type { Value } from "./types";
import { analyzeWhere } from "./analyze";
import { matches } from "./evaluate";
import { toSql } from "./to-sql";
import {
  describeType,
  parseValue,
  typeOfColumn,
  ValueSyntaxError,
} from "./types";
import { WhereClauseError } from "./where-error";

export { WhereClauseError } from "./where-error";

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

/**
 * Thrown for `params` keys that are not 1, 2, ... n; reported under `errors.params` like
 * Electric. Missing, unused and mistyped values are WHERE errors (`errors.where`), as there.
 */
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
  const { expr, paramTypes, paramLocations } = analyzeWhere(where, (name) => {
    const column = byName.get(name);
    if (!column) return undefined;
    return typeOfColumn(column) ?? { unsupportedType: column.type };
  });
  // Electric's checks and words (`shape/validators.ex`, `replication/eval/parser.ex`): the
  // keys under `params`, their use by the clause under `where`.
  const provided = Object.keys(params);
  if (provided.some((key) => !/^\d+$/.test(key)))
    throw new WhereParamsError("Parameters can only use numbers as keys");
  const numbers = provided.map(Number).sort((a, b) => a - b);
  if (numbers.some((number, index) => number !== index + 1))
    throw new WhereParamsError(
      "Parameters must be numbered sequentially, starting from 1",
    );
  paramTypes.forEach((_, index) => {
    if (!(String(index + 1) in params))
      throw new WhereClauseError(
        `parameter $${index + 1} was not provided`,
        paramLocations.get(index + 1) ?? 0,
      );
  });
  const unused = numbers.find((number) => number > paramTypes.length);
  if (unused !== undefined)
    throw new WhereClauseError(
      `parameter value for $${unused} was not used`,
      0,
    );
  const paramTexts = paramTypes.map(
    (_, index) => params[String(index + 1)] ?? "",
  );
  const paramValues = paramTypes.map((type, index) => {
    const text = paramTexts[index] ?? "";
    try {
      return parseValue(text, type);
    } catch (error) {
      if (error instanceof ValueSyntaxError)
        throw new WhereClauseError(
          `invalid syntax for type ${describeType(type)}: ${text} (parameter $${index + 1}: ${error.message})`,
          paramLocations.get(index + 1) ?? 0,
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
