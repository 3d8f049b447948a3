/**
 * The API over plain Node HTTP (tRPC's standalone adapter), for Node apps that serve it
 * themselves, the HTTP integration tests and the benchmark. Next.js serves the same router
 * through its route handler (apps/web), with the same context.
 */
import type { IncomingHttpHeaders, Server } from "node:http";
import { createHTTPServer } from "@trpc/server/adapters/standalone";

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
  return createHTTPServer({
    router: appRouter,
    maxBodySize: options.maxBodySize ?? MAX_REQUEST_BYTES,
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
