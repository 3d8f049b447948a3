/**
 * WHERE clause validation: the clause is parsed by the real Postgres parser (as Electric parses
 * it, inside `SELECT 1 WHERE …`), the statement around it checked, its depth bounded, then its
 * nodes analysed and typed (`analyzer.ts`, `type-rules.ts`); every refusal is a
 * `WhereClauseError` worded and located as Electric's (SPEC.md "Error bodies").
 */
import type { ColumnTypes } from "./analyzer";
import type { Expr } from "./ast";
import type { SqlType } from "./types";
import { measureTree } from "../parse-tree";
import { parseSql, singleSelect, SqlParseError } from "../pg-parser";
import { Analyzer } from "./analyzer";
import { BOOL, describeType, TEXT } from "./types";
import { WHERE_PREFIX, WhereClauseError } from "./where-error";

/**
 * Deepest nesting of a clause's parse tree, in nodes (an operator, a function call, a cast, a
 * NOT, a column reference and its name are a level each: `a = 1` is 3 deep). Checked before
 * the analysis, which recurses; 100 levels are far more than any hand-written or generated
 * filter needs, and far less than the stack takes.
 */
const MAX_WHERE_DEPTH = 100;

export interface AnalyzedWhere {
  expr: Expr;
  /** Inferred type of each `$n` (index n-1). */
  paramTypes: SqlType[];
  /** Offset in the clause of each `$n`'s first use, for Electric's `At location N:`. */
  paramLocations: ReadonlyMap<number, number>;
}

export function analyzeWhere(
  where: string,
  columnType: ColumnTypes,
): AnalyzedWhere {
  try {
    return analyze(where, columnType);
  } catch (error) {
    if (error instanceof WhereClauseError && error.location === undefined)
      error.at(0);
    throw error;
  }
}

function analyze(where: string, columnType: ColumnTypes): AnalyzedWhere {
  let parsed;
  try {
    parsed = parseSql(`${WHERE_PREFIX}${where}`);
  } catch (error) {
    if (error instanceof SqlParseError)
      throw new WhereClauseError(error.message, syntaxErrorLocation(error));
    throw error;
  }
  if ((parsed.stmts?.length ?? 0) > 1)
    throw new WhereClauseError('unescaped ";" causing statement split', null);
  const select = singleSelect(parsed);
  const clause = select?.whereClause;
  if (!select || !clause)
    throw new WhereClauseError("expected a single boolean expression", null);
  if (
    select.fromClause !== undefined ||
    select.groupClause !== undefined ||
    select.havingClause !== undefined ||
    select.sortClause !== undefined ||
    select.limitCount !== undefined ||
    select.limitOffset !== undefined ||
    select.lockingClause !== undefined ||
    select.windowClause !== undefined
  ) {
    throw new WhereClauseError("malformed query ending with SQL clauses", null);
  }
  // Before anything recurses over the tree (analysis, SQL rendering, evaluation).
  const { depth, hasSubLink } = measureTree(clause);
  if (depth > MAX_WHERE_DEPTH)
    throw new WhereClauseError(
      `expression is nested too deeply: more than ${MAX_WHERE_DEPTH} levels of operators, function calls, casts or NOT`,
      null,
    );
  // Electric refuses subqueries before looking at anything else, without a location.
  if (hasSubLink)
    throw new WhereClauseError(
      "Subqueries are not supported (this server does not implement their move-in/move-out)",
      null,
    );
  const params = new Map<number, SqlType>();
  const paramLocations = new Map<number, number>();
  const analyzer = new Analyzer(columnType, params, paramLocations);
  const top = analyzer.node(clause);
  const expr =
    top.type.family === "unknown" ? analyzer.types.typed(top, BOOL) : top;
  if (expr.type.family !== "bool" || expr.type.dims !== 0)
    throw new WhereClauseError(
      `WHERE clause must return a boolean (this one returns ${describeType(expr.type)})`,
      null,
    );
  const count = params.size === 0 ? 0 : Math.max(...params.keys());
  const paramTypes: SqlType[] = [];
  for (let index = 1; index <= count; index++) {
    const type = params.get(index);
    if (!type)
      throw new WhereClauseError(
        `expression is missing $${index} - parameters should be numbered sequentially`,
        0,
      );
    paramTypes.push(type.family === "unknown" ? TEXT : type);
  }
  return { expr, paramTypes, paramLocations };
}

/**
 * Electric reports the parser's `cursorpos` as is: 1-based and counted in the prefixed query
 * (`parser.ex` get_where_internal_ast); libpg-query's `cursorPosition` is 0-based.
 */
function syntaxErrorLocation(error: SqlParseError): number {
  const cause = error.cause as
    { sqlDetails?: { cursorPosition?: number } } | undefined;
  const position = cause?.sqlDetails?.cursorPosition;
  return typeof position === "number" ? position + 1 : 0;
}
