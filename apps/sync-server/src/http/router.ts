/**
 * Routing: `GET /v1/health`, `GET /`, `OPTIONS|GET|HEAD|POST|DELETE /v1/shape`, 404 elsewhere;
 * the secret check; 503 while shutting down. Repeated shape URLs (every live client's) skip
 * parsing through the parsed-request cache.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

import type { ServerContext } from "./context";
import {
  HEALTH_PATH,
  LEGACY_SECRET_PARAM,
  SECRET_PARAM,
  SHAPE_PATH,
} from "../protocol/constants";
import { parseShapeRequest } from "../protocol/request";
import { deleteShape } from "./delete";
import { sendError } from "./error-response";
import { toDefinition } from "./resolve";
import {
  errorCacheHeaders,
  sendJson,
  sendMessage,
  setCommonHeaders,
} from "./respond";
import { serveShape } from "./serve-shape";
import {
  hasSubsetParams,
  readJsonBody,
  serveSubset,
  subsetFromQuery,
} from "./subset";

export async function handleRequest(
  server: ServerContext,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  setCommonHeaders(request, response);
  const method = request.method ?? "GET";
  const rawUrl = request.url ?? "/";
  const parsed =
    method === "GET" || method === "HEAD"
      ? server.parsedRequests.get(rawUrl)
      : undefined;
  if (parsed && !server.stopping) {
    const { request: shapeRequest, definition } = parsed;
    await serveShape({
      server,
      request,
      response,
      shapeRequest,
      definition,
    }).catch((error: unknown) => sendError(server.logger, response, error));
    return;
  }
  const url = URL.parse(rawUrl, "http://localhost");
  // Node passes the request target on as sent: an absolute form with a broken host
  // (`GET http://[::1/v1/shape`) is no URL at all.
  if (!url) {
    sendMessage(response, 400, "Invalid request target");
    return;
  }
  if (server.stopping) {
    sendMessage(response, 503, "Server is shutting down", {
      ...errorCacheHeaders(),
      "retry-after": "1",
      connection: "close",
    });
    return;
  }
  if (url.pathname === HEALTH_PATH) {
    const healthy = server.isHealthy();
    sendJson(
      response,
      healthy ? 200 : 503,
      JSON.stringify({ status: healthy ? "active" : "waiting" }),
      { "cache-control": "no-cache, no-store, must-revalidate" },
    );
    return;
  }
  if (url.pathname === "/") {
    response.writeHead(200).end();
    return;
  }
  if (url.pathname !== SHAPE_PATH) {
    sendMessage(response, 404, "Not found", { "cache-control": "no-store" });
    return;
  }
  if (method === "OPTIONS") {
    response.writeHead(204, {
      "access-control-allow-headers":
        request.headers["access-control-request-headers"] ??
        "authorization, content-type",
      "access-control-max-age": "86400",
    });
    response.end();
    return;
  }
  if (
    server.secret !== undefined &&
    !secretMatches(url.searchParams, server.secret)
  ) {
    sendMessage(response, 401, "Unauthorized - Invalid API secret", {
      "cache-control": "no-store",
    });
    return;
  }
  try {
    await routeShapeRequest(server, { request, response, url, rawUrl });
  } catch (error) {
    sendError(server.logger, response, error);
  }
}

interface Routed {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  rawUrl: string;
}

async function routeShapeRequest(
  server: ServerContext,
  { request, response, url, rawUrl }: Routed,
): Promise<void> {
  const method = request.method ?? "GET";
  if ((method === "GET" || method === "HEAD") && hasSubsetParams(url))
    await serveSubset({ server, url, response, source: subsetFromQuery(url) });
  else if (method === "GET" || method === "HEAD") {
    const shapeRequest = parseShapeRequest(url.searchParams);
    const definition = toDefinition(server, shapeRequest);
    server.parsedRequests.set(rawUrl, { request: shapeRequest, definition });
    await serveShape({ server, request, response, shapeRequest, definition });
  } else if (method === "POST")
    await serveSubset({
      server,
      url,
      response,
      source: await readJsonBody(request),
    });
  else if (method === "DELETE") deleteShape(server, url, response);
  else
    sendMessage(response, 405, `Method ${method} not allowed`, {
      allow: "GET, HEAD, POST, DELETE, OPTIONS",
      "cache-control": "no-store",
    });
}

function secretMatches(query: URLSearchParams, secret: string): boolean {
  const given = query.get(SECRET_PARAM) ?? query.get(LEGACY_SECRET_PARAM);
  if (given === null) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}
