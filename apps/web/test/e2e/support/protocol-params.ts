/** Electric's protocol parameters: where a request is in a shape, not which shape. */
export const PROTOCOL_PARAMS = [
  "offset",
  "handle",
  "cursor",
  "live",
  "live_sse",
  "experimental_live_sse",
  "expired_handle",
  "cache-buster",
  "log",
];
