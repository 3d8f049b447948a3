/**
 * Validation of `GET /v1/shape` query parameters, with Electric's field-level messages
 * (`shapes/api/params.ex`). All problems are collected and reported together.
 */
import type { LogOffset } from "./offset";
import {
  COLUMNS_QUERY_PARAM,
  EXPERIMENTAL_LIVE_SSE_QUERY_PARAM,
  LIVE_CACHE_BUSTER_QUERY_PARAM,
  LIVE_QUERY_PARAM,
  LIVE_SSE_QUERY_PARAM,
  LOG_MODE_QUERY_PARAM,
  OFFSET_QUERY_PARAM,
  QUERYABLE_COLUMNS_PARAM,
  REPLICA_PARAM,
  SHAPE_HANDLE_QUERY_PARAM,
  TABLE_QUERY_PARAM,
  WHERE_PARAMS_PARAM,
  WHERE_QUERY_PARAM,
} from "./constants";
import { InvalidRequestError } from "./errors";
import { parseOffset } from "./offset";

type RequestedOffset = LogOffset | "now";

export interface ShapeRequest {
  table: string;
  where: string | undefined;
  params: Record<string, string>;
  columns: string | undefined;
  replica: "default" | "full";
  log: "full" | "changes_only";
  offset: RequestedOffset;
  handle: string | undefined;
  live: boolean;
  liveSse: boolean;
  cursor: string | undefined;
}

/** Upper bound on any single parameter; longer ones are rejected rather than parsed. */
export const MAX_PARAM_LENGTH = 64 * 1024;

export function parseShapeRequest(query: URLSearchParams): ShapeRequest {
  const errors: Record<string, string[]> = {};
  const add = (field: string, message: string) => {
    (errors[field] ??= []).push(message);
  };
  for (const [key, value] of query) {
    if (value.length > MAX_PARAM_LENGTH)
      add(key, `is too long (maximum is ${MAX_PARAM_LENGTH} characters)`);
  }

  const table = query.get(TABLE_QUERY_PARAM) ?? "";
  if (table.trim() === "") add("table", "can't be blank");

  const offsetText = query.get(OFFSET_QUERY_PARAM);
  let offset: RequestedOffset | undefined;
  if (offsetText === null || offsetText === "") add("offset", "can't be blank");
  else if (offsetText === "now") offset = "now";
  else {
    offset = parseOffset(offsetText);
    if (!offset) add("offset", "has invalid format");
  }
  const isStart = offsetText === "-1" || offsetText === "now";

  const handle = query.get(SHAPE_HANDLE_QUERY_PARAM) ?? undefined;
  if (!isStart && offset && !handle)
    add("handle", "can't be blank when offset != -1");

  // Electric treats any value but the literal "false" as true.
  const liveText = query.get(LIVE_QUERY_PARAM);
  const live = liveText !== null && liveText !== "false";
  if (live && offsetText === "-1")
    add("live", "can't be true when offset == -1");
  if (live && offsetText === "now")
    add("live", "can't be true when offset is 'now'");
  const sseText =
    query.get(LIVE_SSE_QUERY_PARAM) ??
    query.get(EXPERIMENTAL_LIVE_SSE_QUERY_PARAM);
  const liveSse = sseText !== null && sseText !== "false";
  if (liveSse && !live)
    add("live_sse", "can't be true unless live is also true");

  const replica = query.get(REPLICA_PARAM) ?? "default";
  if (replica !== "default" && replica !== "full") add("replica", "is invalid");
  const logText = query.get(LOG_MODE_QUERY_PARAM);
  const log = logText === null || logText === "" ? "full" : logText;
  if (log !== "full" && log !== "changes_only") add("log", "is invalid");

  const params: Record<string, string> = {};
  const paramPattern = new RegExp(`^${WHERE_PARAMS_PARAM}\\[(.*)\\]$`);
  for (const [key, value] of query) {
    const match = paramPattern.exec(key);
    if (match) params[match[1] ?? ""] = value;
  }
  if (query.has(WHERE_PARAMS_PARAM))
    add(
      "params",
      "is invalid: must be given as params[1]=value&params[2]=value ...",
    );

  // Ignoring the allow-list would silently widen what a proxy meant to restrict, and enforcing
  // it on subset requests needs the subset parser to see the shape's parameters: refused.
  if (query.has(QUERYABLE_COLUMNS_PARAM))
    add(
      QUERYABLE_COLUMNS_PARAM,
      "is not supported by this server: it cannot restrict subset requests to these columns yet; restrict them in the proxy (columns, subset__where) instead",
    );

  const where = query.get(WHERE_QUERY_PARAM) ?? undefined;
  if (where?.trim() === "") add("where", "can't be blank");

  if (Object.keys(errors).length > 0 || !offset)
    throw new InvalidRequestError(errors);
  return {
    table,
    where,
    params,
    columns: query.get(COLUMNS_QUERY_PARAM) ?? undefined,
    replica: replica as ShapeRequest["replica"],
    log: log as ShapeRequest["log"],
    offset,
    handle,
    live,
    liveSse,
    cursor: query.get(LIVE_CACHE_BUSTER_QUERY_PARAM) ?? undefined,
  };
}
