/**
 * The API over plain Node HTTP, for Node apps that serve it themselves, the HTTP integration
 * tests and the benchmark. JSON calls with a body of known length go through `lean-handler.ts`
 * (tRPC's `resolveResponse` without web streams); anything else (chunked or oversized bodies,
 * other content types) through tRPC's standalone adapter. Next.js serves the same router
 * through its route handler (apps/web), with the same context.
 */
import { createServer } from "node:http";
import type { TRPCError } from "@trpc/server";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";

import type { Db } from "@repo/db";

import type { SessionResolver } from "../trpc";
import { createBearerSessionResolver } from "../auth/session";
import { MAX_REQUEST_BYTES } from "../limits";
import { appRouter } from "../root";
import { createTRPCContext } from "../trpc";
import { createLeanHandler, isLeanRequest, toHeaders } from "./lean-handler";

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
  const onError = ({
    path,
    error,
  }: {
    path: string | undefined;
    error: TRPCError;
  }) => {
    if (error.code === "INTERNAL_SERVER_ERROR")
      onInternalError(path, error.cause ?? error);
  };
  const handle = createHTTPHandler({
    router: appRouter,
    maxBodySize,
    createContext: ({ req }) =>
      createTRPCContext({
        db: options.db,
        headers: toHeaders(req.headers),
        resolveSession,
      }),
    onError,
  });
  const lean = createLeanHandler({
    router: appRouter,
    createContext: (headers) =>
      createTRPCContext({ db: options.db, headers, resolveSession }),
    onError,
  });
  const serveLean = (
    req: IncomingMessage,
    res: ServerResponse,
    body: string | undefined,
  ) =>
    lean(req, res, body).catch(() => {
      // Only a malformed URL or Host gets here (tRPC answers everything else itself).
      if (res.headersSent) res.destroy();
      else res.writeHead(400).end();
    });
  return createServer((req, res) => {
    if (isLeanRequest(req) && req.method === "GET") {
      void serveLean(req, res, undefined);
      return;
    }
    // A body with a Content-Length within the limit is read here into a string. Node's parser
    // frames the body by that length, so it cannot exceed it. Anything else (no length, too
    // long) goes to tRPC's own streaming path, which enforces `maxBodySize` (413).
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
        if (isLeanRequest(req)) {
          void serveLean(req, res, body);
          return;
        }
        // Other content types: tRPC takes `req.body` as is, without a web ReadableStream.
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
