/**
 * Subset snapshots (`requestSnapshot` / `fetchSnapshot` of the client; TanStack DB's on-demand
 * mode): rows of the shape narrowed by an extra WHERE (ANDed, so it can only narrow), ordered,
 * limited, read in a REPEATABLE READ transaction with its `pg_current_snapshot()` so the client
 * can drop stream changes the subset already contains.
 *
 * @see SPEC.md "Subset parameters"
 */
import { randomInt } from "node:crypto";
import type pg from "pg";

import type { Shape } from "./shape";
import { InvalidRequestError } from "../protocol/errors";
import { lsnToBigInt } from "../protocol/offset";
import { MAX_PARAM_LENGTH } from "../protocol/request";
import { RAW_TEXT_TYPES } from "../replication/postgres-settings";
import { qualifiedSql, quoteIdentifier } from "./identifiers";
import { buildKey, relationPrefix } from "./key";
import {
  columnRefName,
  parseSql,
  singleSelect,
  SqlParseError,
} from "./pg-parser";
import { parsePgSnapshot } from "./snapshot-visibility";
import { isCausedByRequest } from "./sqlstate";
import { compileWhere, WhereClauseError, WhereParamsError } from "./where";

export interface SubsetRequest {
  where: string | undefined;
  params: Record<string, string>;
  limit: bigint | undefined;
  offset: bigint | undefined;
  orderBy: string | undefined;
}

/** Postgres' LIMIT and OFFSET are bigints. */
const MAX_BIGINT = 2n ** 63n - 1n;

const invalid = (field: string, message: string) =>
  new InvalidRequestError({ subset: { [field]: [message] } });

/**
 * Reads subset parameters from `subset__*` query params or a POST JSON body. Everything is
 * checked here the way the shape's own parameters are (types, lengths, ranges), so what is
 * left to fail in Postgres can only be the data the request names (see runSubsetSnapshot).
 */
export function parseSubsetRequest(
  source: Record<string, unknown>,
): SubsetRequest {
  const text = (key: string): string | undefined => {
    const value = source[key];
    if (!isPresent(value)) return undefined;
    if (typeof value === "number" && Number.isFinite(value))
      return String(value);
    if (typeof value !== "string") throw invalid(key, "must be a string");
    if (value.length > MAX_PARAM_LENGTH)
      throw invalid(
        key,
        `is too long (maximum is ${MAX_PARAM_LENGTH} characters)`,
      );
    return value;
  };
  const integer = (key: string, min: bigint): bigint | undefined => {
    const value = source[key];
    if (!isPresent(value)) return undefined;
    // A JSON number past 2^53 has already lost digits on the way: it must come as text.
    const digits =
      typeof value === "string"
        ? value
        : Number.isSafeInteger(value)
          ? String(value)
          : "";
    const number = /^\d{1,19}$/.test(digits) ? BigInt(digits) : -1n;
    if (number < min || number > MAX_BIGINT)
      throw invalid(
        key,
        `must be an integer greater than or equal to ${min} and at most ${MAX_BIGINT}`,
      );
    return number;
  };
  const params = parseParams(source.params);
  // The client sends structured `where_expr`/`order_by_expr` next to the SQL it compiled from
  // them (with its column mapper applied); Electric reads only the SQL, and so do we. An expr
  // without its SQL would silently mean "no filter"/"no order", so it is refused.
  for (const [expr, sql] of [
    ["where_expr", "where"],
    ["order_by_expr", "order_by"],
  ] as const) {
    if (isPresent(source[expr]) && !isPresent(source[sql]))
      throw invalid(
        expr,
        `is only accepted together with ${sql}: the server reads the SQL form (the official client sends both)`,
      );
  }
  const request: SubsetRequest = {
    where: text("where"),
    params,
    limit: integer("limit", 1n),
    offset: integer("offset", 0n),
    orderBy: text("order_by"),
  };
  if (
    (request.limit !== undefined || request.offset !== undefined) &&
    !request.orderBy
  )
    throw invalid(
      "order_by",
      "order_by is required when limit or offset is present",
    );
  return request;
}

/**
 * `params`: a JSON object `{"1": "value"}` (or an array), as JSON text in the query string.
 * Values are strings; numbers, which the client's types allow, are taken as their text.
 */
function parseParams(raw: unknown): Record<string, string> {
  const parsed: unknown = typeof raw === "string" ? safeJson(raw) : raw;
  if (parsed === undefined || parsed === null) return {};
  if (typeof parsed !== "object")
    throw invalid("params", 'must be a JSON object like {"1": "value"}');
  const entries = Array.isArray(parsed)
    ? parsed.map((value: unknown, index) => [String(index + 1), value] as const)
    : Object.entries(parsed as Record<string, unknown>);
  return Object.fromEntries(
    entries.map(([key, value]) => {
      if (typeof value === "number" && Number.isFinite(value))
        return [key, String(value)];
      if (typeof value !== "string")
        throw invalid(
          "params",
          `the value of parameter ${key} must be a string`,
        );
      if (value.length > MAX_PARAM_LENGTH)
        throw invalid(
          "params",
          `the value of parameter ${key} is too long (maximum is ${MAX_PARAM_LENGTH} characters)`,
        );
      return [key, value];
    }),
  );
}

function isPresent(value: unknown): boolean {
  return value !== undefined && value !== null && value !== "";
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw invalid("params", 'must be a JSON object like {"1": "value"}');
  }
}

/** `ORDER BY` restricted to column names with ASC/DESC and NULLS FIRST/LAST. */
function orderBySql(orderBy: string, columns: ReadonlySet<string>): string {
  let select;
  try {
    select = singleSelect(parseSql(`SELECT 1 FROM t ORDER BY ${orderBy}`));
  } catch (error) {
    if (error instanceof SqlParseError)
      throw invalid("order_by", error.message);
    throw error;
  }
  const items = select?.sortClause ?? [];
  if (!select || items.length === 0 || select.limitCount || select.whereClause)
    throw invalid("order_by", "expected a list of columns");
  return items
    .map((item) => {
      const sortBy = "SortBy" in item ? item.SortBy : undefined;
      const name = columnRefName(sortBy?.node);
      if (!sortBy || name === undefined || sortBy.useOp)
        throw invalid(
          "order_by",
          "only column names with ASC/DESC and NULLS FIRST/LAST are supported",
        );
      if (!columns.has(name))
        throw invalid("order_by", `unknown column ${name}`);
      const direction =
        sortBy.sortby_dir === "SORTBY_DESC"
          ? " DESC"
          : sortBy.sortby_dir === "SORTBY_ASC"
            ? " ASC"
            : "";
      const nulls =
        sortBy.sortby_nulls === "SORTBY_NULLS_FIRST"
          ? " NULLS FIRST"
          : sortBy.sortby_nulls === "SORTBY_NULLS_LAST"
            ? " NULLS LAST"
            : "";
      return `${quoteIdentifier(name)}${direction}${nulls}`;
    })
    .join(", ");
}

export interface SubsetResult {
  body: string;
}

export async function runSubsetSnapshot(
  pool: pg.Pool,
  shape: Shape,
  request: SubsetRequest,
): Promise<SubsetResult> {
  const shapeWhere = shape.where;
  const shapeParamCount = shapeWhere?.paramTexts.length ?? 0;
  let subsetWhere;
  try {
    subsetWhere = request.where
      ? compileWhere(
          request.where,
          shape.table.columns,
          request.params,
          shapeParamCount,
        )
      : undefined;
  } catch (error) {
    if (error instanceof WhereClauseError)
      throw invalid("where", error.message);
    if (error instanceof WhereParamsError)
      throw invalid("params", error.message);
    throw error;
  }
  if (!request.where && Object.keys(request.params).length > 0)
    throw invalid("params", "params were given but there is no where clause");
  const conditions = [shapeWhere?.sql, subsetWhere?.sql].filter(
    (sql): sql is string => !!sql,
  );
  const columns = shape.selectedColumnNames;
  const orderBy = request.orderBy
    ? ` ORDER BY ${orderBySql(request.orderBy, new Set(shape.table.columns.map((column) => column.name)))}`
    : "";
  const values = [
    ...(shapeWhere?.paramTexts ?? []),
    ...(subsetWhere?.paramTexts ?? []),
  ];
  const bound = (value: bigint) => {
    values.push(value.toString());
    return `$${values.length}::int8`;
  };
  const query =
    `SELECT ${columns.map(quoteIdentifier).join(", ")} FROM ${qualifiedSql(shape.table)}` +
    (conditions.length ? ` WHERE ${conditions.join(" AND ")}` : "") +
    orderBy +
    (request.limit !== undefined ? ` LIMIT ${bound(request.limit)}` : "") +
    (request.offset !== undefined ? ` OFFSET ${bound(request.offset)}` : "");

  const client = await pool.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    const { rows } = await client.query<{ snapshot: string; lsn: string }>(
      "SELECT pg_current_snapshot()::text AS snapshot, pg_current_wal_lsn()::text AS lsn",
    );
    const result = await client
      .query<(string | null)[]>({
        text: query,
        values,
        rowMode: "array",
        types: RAW_TEXT_TYPES,
      })
      .catch((error: unknown) => {
        throw isCausedByRequest(error)
          ? invalid(
              request.where || !request.orderBy ? "where" : "order_by",
              `the subset query failed: ${error.message}`,
            )
          : error;
      });
    await client.query("COMMIT");
    const snapshot = parsePgSnapshot(rows[0]?.snapshot ?? "");
    const snapshotMark = randomInt(0, 2 ** 31 - 1);
    const prefix = relationPrefix(shape.table.schema, shape.table.name);
    const headers = {
      operation: "insert",
      relation: shape.relation,
      snapshot_mark: snapshotMark,
    };
    const data = result.rows.map((values) => {
      const row: Record<string, string | null> = {};
      columns.forEach((name, index) => (row[name] = values[index] ?? null));
      return {
        key: buildKey(prefix, shape.table.primaryKey, row),
        value: row,
        headers,
      };
    });
    return {
      body: JSON.stringify({
        metadata: {
          xmin: snapshot.xmin.toString(),
          xmax: snapshot.xmax.toString(),
          xip_list: [...snapshot.xip].map(String),
          snapshot_mark: snapshotMark,
          database_lsn: lsnToBigInt(rows[0]?.lsn ?? "0/0").toString(),
        },
        data,
      }),
    };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
