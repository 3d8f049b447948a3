/**
 * `DELETE /v1/shape` (Electric's `allow_shape_deletion`): removes the shape named by `handle`,
 * or by its definition; its readers get 409 and the next request builds it anew.
 */
import type { ServerResponse } from "node:http";

import type { ServerContext } from "./context";
import { parseShapeRequest } from "../protocol/request";
import { toDefinition } from "./resolve";
import { sendMessage } from "./respond";

export function deleteShape(
  server: ServerContext,
  url: URL,
  response: ServerResponse,
): void {
  if (!server.allowShapeDeletion) {
    sendMessage(response, 405, "Shape deletion is disabled on this server");
    return;
  }
  const handle = url.searchParams.get("handle") ?? undefined;
  let shape = handle ? server.shapes.getByHandle(handle) : undefined;
  if (!shape && url.searchParams.get("table")) {
    const definition = toDefinition(
      server,
      parseShapeRequest(withOffset(url.searchParams)),
    );
    shape = server.shapes.find(definition);
  }
  if (!shape) {
    sendMessage(response, 404, "Shape not found");
    return;
  }
  server.shapes.remove(shape, "deleted by request");
  response.writeHead(202, { "cache-control": "no-cache" }).end();
}

/** The definition's parameters as a start request, so they validate without a handle. */
function withOffset(query: URLSearchParams): URLSearchParams {
  const copy = new URLSearchParams(query);
  copy.set("offset", "-1");
  copy.delete("handle");
  copy.delete("live");
  return copy;
}
