/**
 * `table` and `columns` parameters, read with the Postgres parser so quoting and case folding
 * follow Postgres (`Items` means `items`, `"My Table"` keeps its case and space).
 */
import { InvalidRequestError } from "../protocol/errors";
import {
  columnRefName,
  parseSql,
  singleSelect,
  SqlParseError,
} from "./pg-parser";

export interface QualifiedName {
  schema: string;
  name: string;
}

/**
 * Live clients send the same `table`/`columns` text on every request; parsing it once per
 * distinct text keeps the parser off the hot path. Bounded so odd inputs can't grow it.
 */
const MEMO_LIMIT = 1000;
const tableMemo = new Map<string, QualifiedName>();
const columnsMemo = new Map<string, string[]>();

function remember<T>(memo: Map<string, T>, key: string, value: T): T {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(key, value);
  return value;
}

export function parseTableName(text: string): QualifiedName {
  const known = tableMemo.get(text);
  if (known) return known;
  return remember(tableMemo, text, parseTableNameUncached(text));
}

/** Splits `columns` (`id,"Title",name`) into column names. */
export function parseColumnList(text: string): string[] {
  const known = columnsMemo.get(text);
  if (known) return [...known];
  return [...remember(columnsMemo, text, parseColumnListUncached(text))];
}

function parseTableNameUncached(text: string): QualifiedName {
  const invalid = (detail: string) =>
    InvalidRequestError.of("table", `Invalid table name "${text}": ${detail}`);
  if (text.trim() === "")
    throw InvalidRequestError.of("table", "can't be blank");
  let select;
  try {
    select = singleSelect(parseSql(`SELECT 1 FROM ${text}`));
  } catch (error) {
    if (error instanceof SqlParseError) throw invalid(error.message);
    throw error;
  }
  const from = select?.fromClause;
  const range =
    from?.length === 1 && from[0] && "RangeVar" in from[0]
      ? from[0].RangeVar
      : undefined;
  const hasOtherClauses =
    !select ||
    select.whereClause !== undefined ||
    select.groupClause !== undefined ||
    select.havingClause !== undefined ||
    select.sortClause !== undefined ||
    select.limitCount !== undefined ||
    select.withClause !== undefined;
  if (
    !range?.relname ||
    hasOtherClauses ||
    range.alias !== undefined ||
    range.catalogname !== undefined ||
    range.inh === false
  ) {
    throw invalid("expected a table name, optionally schema-qualified");
  }
  const table = { schema: range.schemaname ?? "public", name: range.relname };
  if (isSystemSchema(table.schema)) throw systemTableError(table);
  return table;
}

/**
 * The tables a server restricted by `ELECTRIC_ALLOWED_TABLES` syncs, named as in the `table`
 * parameter (unqualified: `public`). Throws at startup for a name that is not one.
 */
export function createTableAllowList(
  names: readonly string[],
): (table: QualifiedName) => boolean {
  const key = (table: QualifiedName) =>
    JSON.stringify([table.schema, table.name]);
  const allowed = new Set(
    names.map((name) => {
      try {
        return key(parseTableName(name));
      } catch (error) {
        throw new Error(
          `allowed tables: ${error instanceof InvalidRequestError ? error.message : String(error)}`,
          { cause: error },
        );
      }
    }),
  );
  return (table) => allowed.has(key(table));
}

/**
 * Postgres' own schemas: the catalogs, `information_schema`, TOAST and temporary schemas (every
 * `pg_` name is reserved for them). Never synced: the server would publish them and alter
 * their replica identity, and they hold secrets (`pg_authid`) and nothing an app syncs.
 */
export function isSystemSchema(schema: string): boolean {
  return schema.startsWith("pg_") || schema === "information_schema";
}

/** Electric's answer for a table that does not exist (`shape.ex` `table_not_found_error/1`). */
export function tableNotFoundError(table: QualifiedName): InvalidRequestError {
  return InvalidRequestError.of(
    "table",
    `Table "${table.schema}"."${table.name}" does not exist. If the table name contains capitals or special characters you must quote it.`,
  );
}

export function systemTableError(table: QualifiedName): InvalidRequestError {
  return InvalidRequestError.of(
    "table",
    `Table "${table.schema}"."${table.name}" is in a system schema: only user tables can be synced`,
  );
}

function parseColumnListUncached(text: string): string[] {
  const invalid = (detail: string) =>
    InvalidRequestError.of("columns", `Invalid column list: ${detail}`);
  if (text.trim() === "")
    throw InvalidRequestError.of("columns", "Invalid zero-length identifier");
  let select;
  try {
    select = singleSelect(parseSql(`SELECT ${text} FROM t`));
  } catch (error) {
    if (error instanceof SqlParseError) {
      const detail = error.message.includes("zero-length")
        ? "Invalid zero-length identifier"
        : error.message;
      throw invalid(detail);
    }
    throw error;
  }
  const names: string[] = [];
  for (const target of select?.targetList ?? []) {
    const resTarget = "ResTarget" in target ? target.ResTarget : undefined;
    const name = columnRefName(resTarget?.val);
    if (name === undefined || resTarget?.name !== undefined)
      throw invalid("each entry must be a column name");
    names.push(name);
  }
  if (names.length === 0 || select?.fromClause?.length !== 1)
    throw invalid("expected column names");
  return names;
}

export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

export function qualifiedSql(table: QualifiedName): string {
  return `${quoteIdentifier(table.schema)}.${quoteIdentifier(table.name)}`;
}
