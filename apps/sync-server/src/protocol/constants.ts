/**
 * Wire names of Electric's HTTP Shape API, in one place (see
 * `electric-sql/electric: packages/typescript-client/src/constants.ts`).
 * The version below is the Electric release whose protocol this server follows.
 */
const ELECTRIC_PROTOCOL_VERSION = "1.5.26";
export const SERVER_HEADER_VALUE = `ElectricSQL/${ELECTRIC_PROTOCOL_VERSION} (kit sync-server)`;

export const SHAPE_PATH = "/v1/shape";
export const HEALTH_PATH = "/v1/health";

// Response headers.
export const SHAPE_HANDLE_HEADER = "electric-handle";
export const CHUNK_LAST_OFFSET_HEADER = "electric-offset";
export const SHAPE_SCHEMA_HEADER = "electric-schema";
export const LIVE_CACHE_BUSTER_HEADER = "electric-cursor";
export const CHUNK_UP_TO_DATE_HEADER = "electric-up-to-date";
export const HAS_DATA_HEADER = "electric-has-data";
export const SERVER_HEADER = "electric-server";

/** Headers a browser client must be allowed to read, or it fails with MissingHeadersError. */
export const EXPOSED_HEADERS = [
  LIVE_CACHE_BUSTER_HEADER,
  SHAPE_HANDLE_HEADER,
  HAS_DATA_HEADER,
  CHUNK_LAST_OFFSET_HEADER,
  SHAPE_SCHEMA_HEADER,
  CHUNK_UP_TO_DATE_HEADER,
  "electric-internal-known-error",
  "retry-after",
].join(",");

// Query parameters.
export const TABLE_QUERY_PARAM = "table";
export const WHERE_QUERY_PARAM = "where";
export const WHERE_PARAMS_PARAM = "params";
export const COLUMNS_QUERY_PARAM = "columns";
export const REPLICA_PARAM = "replica";
export const LOG_MODE_QUERY_PARAM = "log";
export const OFFSET_QUERY_PARAM = "offset";
export const SHAPE_HANDLE_QUERY_PARAM = "handle";
export const LIVE_QUERY_PARAM = "live";
export const LIVE_SSE_QUERY_PARAM = "live_sse";
export const EXPERIMENTAL_LIVE_SSE_QUERY_PARAM = "experimental_live_sse";
export const LIVE_CACHE_BUSTER_QUERY_PARAM = "cursor";
export const SECRET_PARAM = "secret";
export const LEGACY_SECRET_PARAM = "api_secret";
export const SUBSET_PARAM_PREFIX = "subset__";
/** Electric's allow-list of columns that subset requests may filter, order and project by. */
export const QUERYABLE_COLUMNS_PARAM = "queryable_columns";

/** Electric's default cache lifetimes (seconds). */
export const CACHE_MAX_AGE = 60;
export const CACHE_STALE_AGE = 300;

/**
 * Electric counts `electric-cursor` in long-poll-timeout intervals since this instant
 * (`plug/utils.ex get_next_interval_timestamp`).
 */
export const CURSOR_EPOCH_MS = Date.UTC(2024, 9, 9);
