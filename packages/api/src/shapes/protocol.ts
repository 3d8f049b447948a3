/**
 * What of Electric's HTTP Shape API passes through the proxy. Everything else a client puts in
 * the URL (table, where, params, columns, secret, anything) is dropped.
 *
 * @see https://electric-sql.com/docs/guides/auth (the proxy pattern)
 */

/**
 * Query parameters that move a client through a shape's log, without changing what the shape
 * is: `@electric-sql/client`'s ELECTRIC_PROTOCOL_QUERY_PARAMS less its `subset__*` ones (a
 * subset's client-written `where` could test columns the shape leaves out, e.g. a user's
 * email), plus `replica` (full or changed-only updates of the same columns).
 */
export const PROTOCOL_PARAMS = [
  "offset",
  "handle",
  "live",
  "live_sse",
  "experimental_live_sse",
  "cursor",
  "expired_handle",
  "log",
  "replica",
  "cache-buster",
] as const;

/** Request headers worth forwarding: the SSE request's accept, and a browser's revalidation. */
export const FORWARDED_REQUEST_HEADERS = ["accept", "if-none-match"] as const;

/**
 * Response headers not copied back: the body is re-encoded by this server (undici already
 * decompressed it), hop-by-hop headers are per connection, and CORS is the app's own business
 * (the proxy is same-origin; Electric's `*`/echoed origin must not widen it).
 */
export const DROPPED_RESPONSE_HEADERS = new Set([
  "content-encoding",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
  "access-control-allow-origin",
  "access-control-allow-methods",
  "access-control-allow-headers",
  "access-control-allow-credentials",
  "access-control-expose-headers",
]);
