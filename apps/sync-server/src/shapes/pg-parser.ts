/**
 * The real Postgres parser (libpg-query, compiled to WebAssembly). Its synchronous functions
 * need the module loaded once; `loadPgParser()` is awaited when the server starts.
 */
import type { Node, ParseResult } from "libpg-query";
import libpgQuery from "libpg-query";

import { errorMessage } from "../error-text";
import { nestingEstimate } from "./sql-nesting";

let loaded: Promise<void> | undefined;

export function loadPgParser(): Promise<void> {
  loaded ??= libpgQuery.loadModule();
  return loaded;
}

export class SqlParseError extends Error {
  override name = "SqlParseError";
}

/**
 * Nesting (see sql-nesting.ts) above which text is refused unparsed: about 1,000 chained
 * operators, where the parser's own stack overflows past about 7,000 (and a clause may nest
 * 100 levels anyway, see `MAX_WHERE_DEPTH`).
 */
const MAX_PARSE_NESTING = 2_000;

/** Parses `sql`, turning the parser's exceptions into SqlParseError with Postgres' message. */
export function parseSql(sql: string): ParseResult {
  if (nestingEstimate(sql) > MAX_PARSE_NESTING)
    throw new SqlParseError(
      "expression is nested too deeply (too many nested or chained operators, calls or parentheses)",
    );
  try {
    return libpgQuery.parseSync(sql);
  } catch (error) {
    throw new SqlParseError(errorMessage(error), { cause: error });
  }
}

/** The single SELECT statement of a parse result, or undefined when it is anything else. */
export function singleSelect(
  result: ParseResult,
): Extract<Node, { SelectStmt: unknown }>["SelectStmt"] | undefined {
  const statements = result.stmts ?? [];
  if (statements.length !== 1) return undefined;
  const statement = statements[0]?.stmt;
  if (!statement || !("SelectStmt" in statement)) return undefined;
  return statement.SelectStmt;
}

/** The name in a plain column reference (`title`, `"My Col"`), or undefined for anything else. */
export function columnRefName(node: Node | undefined): string | undefined {
  const fields =
    node && "ColumnRef" in node ? node.ColumnRef.fields : undefined;
  const only = fields?.length === 1 ? fields[0] : undefined;
  return only && "String" in only ? (only.String.sval ?? "") : undefined;
}
