/**
 * The real Postgres parser (libpg-query, compiled to WebAssembly). Its synchronous functions
 * need the module loaded once; `loadPgParser()` is awaited when the server starts.
 */
import type { Node, ParseResult } from "libpg-query";
import libpgQuery from "libpg-query";

let loaded: Promise<void> | undefined;

export function loadPgParser(): Promise<void> {
  loaded ??= libpgQuery.loadModule();
  return loaded;
}

export class SqlParseError extends Error {
  override name = "SqlParseError";
}

/** Parses `sql`, turning the parser's exceptions into SqlParseError with Postgres' message. */
export function parseSql(sql: string): ParseResult {
  try {
    return libpgQuery.parseSync(sql);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SqlParseError(message, { cause: error });
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
