/** Response helpers every HTTP module uses: common headers, JSON bodies, error cache headers. */
import type { IncomingMessage, ServerResponse } from "node:http";

import {
  EXPOSED_HEADERS,
  SERVER_HEADER,
  SERVER_HEADER_VALUE,
} from "../protocol/constants";

/** Headers of every response, errors included (CORS: SPEC.md "Request rules"). */
export function setCommonHeaders(
  request: IncomingMessage,
  response: ServerResponse,
): void {
  response.setHeader(SERVER_HEADER, SERVER_HEADER_VALUE);
  response.setHeader(
    "access-control-allow-origin",
    request.headers.origin ?? "*",
  );
  response.setHeader(
    "access-control-allow-methods",
    "GET, POST, HEAD, DELETE, OPTIONS",
  );
  response.setHeader("access-control-expose-headers", EXPOSED_HEADERS);
  if (request.headers.origin) response.setHeader("vary", "Origin");
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: string,
  headers: Record<string, string>,
): void {
  response.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    ...headers,
  });
  response.end(body);
}

/** `{"message": …}` with a status, as every non-400 error body is. */
export function sendMessage(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = errorCacheHeaders(),
): void {
  sendJson(response, status, JSON.stringify({ message }), headers);
}

/** Errors are never cached, by browsers or CDNs (Electric sends the same). */
export function errorCacheHeaders(): Record<string, string> {
  return { "cache-control": "no-store", "surrogate-control": "no-store" };
}
