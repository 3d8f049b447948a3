/**
 * The API over plain Node HTTP (tRPC's standalone adapter), for Node apps that serve it
 * themselves, the HTTP integration tests and the benchmark. Next.js serves the same router
 * through its route handler (apps/web), with the same context.
 */
import { createServer } from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, Server } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";

import type { Db } from "@repo/db";

import type { SessionResolver } from "../trpc";
import { createBearerSessionResolver } from "../auth/session";
import { MAX_REQUEST_BYTES } from "../limits";
import { appRouter } from "../root";
import { createTRPCContext } from "../trpc";

export { MAX_REQUEST_BYTES };

export interface ApiHttpServerOptions {
  db: Db;
  /** Default: `Authorization: Bearer <session token>` looked up in `sessions`. */
  resolveSession?: SessionResolver;
  /** Default `MAX_REQUEST_BYTES`. */
  maxBodySize?: number;
  /** Called with failures the client only sees as INTERNAL_SERVER_ERROR. Default: console.error. */
  onInternalError?: (path: string | undefined, error: Error) => void;
}

/** An `http.Server` answering tRPC at `/` (call `listen` on it). */
export function createApiHttpServer(options: ApiHttpServerOptions): Server {
  const resolveSession =
    options.resolveSession ?? createBearerSessionResolver(options.db);
  const onInternalError =
    options.onInternalError ??
    ((path, error) => console.error(`tRPC ${path ?? "?"} failed`, error));
  const maxBodySize = options.maxBodySize ?? MAX_REQUEST_BYTES;
  const handle = createHTTPHandler({
    router: appRouter,
    maxBodySize,
    createContext: ({ req }) =>
      createTRPCContext({
        db: options.db,
        headers: toHeaders(req.headers),
        resolveSession,
      }),
    onError: ({ path, error }) => {
      if (error.code === "INTERNAL_SERVER_ERROR")
        onInternalError(path, error.cause ?? error);
    },
  });
  return createServer((req, res) => {
    // A body with a Content-Length within the limit is read here into a string: tRPC takes
    // `req.body` as is, instead of wrapping the request in a web ReadableStream (a tenth of
    // the adapter's CPU per call). Node's parser frames the body by that length, so it cannot
    // exceed it. Anything else (no length, too long) goes to tRPC's own streaming path, which
    // enforces `maxBodySize` (413).
    const length = Number(req.headers["content-length"]);
    if (
      req.method !== "POST" ||
      !Number.isSafeInteger(length) ||
      length > maxBodySize
    ) {
      handle(req, res);
      return;
    }
    readBody(req).then(
      (body) => {
        (req as IncomingMessage & { body?: string }).body = body;
        handle(req, res);
      },
      () => res.destroy(),
    );
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
    // A client that hangs up mid-body: nothing to answer.
    req.on("close", () => {
      if (!req.complete) reject(new Error("request aborted"));
    });
  });
}

function toHeaders(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value])
      headers.append(name, item);
  }
  return headers;
}
