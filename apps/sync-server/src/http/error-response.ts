/**
 * Errors to responses, in Electric's statuses and bodies (SPEC.md "Error bodies"): 400 with
 * `errors` per field, 409 `must-refetch` with the current handle, 503 with `retry-after` when
 * the database or the replication stream cannot serve yet, 500 for anything else.
 */
import type { ServerResponse } from "node:http";

import type { Logger } from "../logger";
import { errorText } from "../error-text";
import { CACHE_MAX_AGE, SHAPE_HANDLE_HEADER } from "../protocol/constants";
import {
  InvalidRequestError,
  MustRefetchError,
  UnavailableError,
} from "../protocol/errors";
import { MUST_REFETCH_BODY } from "../protocol/messages";
import { errorCacheHeaders, sendJson, sendMessage } from "./respond";

/** A POST body over the limit (413). */
export class PayloadTooLargeError extends Error {
  override name = "PayloadTooLargeError";
}

export function sendError(
  logger: Logger,
  response: ServerResponse,
  error: unknown,
): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  if (error instanceof PayloadTooLargeError) {
    sendMessage(response, 413, "Request body too large");
  } else if (error instanceof InvalidRequestError) {
    sendJson(response, 400, error.body(), errorCacheHeaders());
  } else if (error instanceof MustRefetchError) {
    const headers: Record<string, string> = {
      "cache-control": error.newHandle
        ? `public, max-age=${CACHE_MAX_AGE}, must-revalidate`
        : "public, max-age=1, must-revalidate",
    };
    if (error.newHandle) headers[SHAPE_HANDLE_HEADER] = error.newHandle;
    sendJson(response, 409, MUST_REFETCH_BODY, headers);
  } else if (error instanceof UnavailableError) {
    sendMessage(response, 503, error.message, {
      ...errorCacheHeaders(),
      "retry-after": String(error.retryAfterSeconds),
    });
  } else if (isPostgresUnavailable(error)) {
    logger.warn("database unavailable", { error: errorText(error) });
    sendMessage(response, 503, "Database is unavailable, retry later", {
      ...errorCacheHeaders(),
      "retry-after": "5",
    });
  } else {
    logger.error("request failed", { error: errorText(error) });
    sendInternalError(response);
  }
}

/** 500 in the body every other error has (Electric's own 500 says `{"error": …}`). */
export function sendInternalError(response: ServerResponse): void {
  sendMessage(response, 500, "Internal server error");
}

function isPostgresUnavailable(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code ?? "";
  return (
    code === "ECONNREFUSED" ||
    code === "ECONNRESET" ||
    code.startsWith("08") ||
    code === "57P01" ||
    code === "57P03" ||
    (error instanceof Error && /Connection terminated/i.test(error.message))
  );
}
