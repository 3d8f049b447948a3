/**
 * The API over plain Node HTTP. JSON calls with a body of known length go through
 * `lean-handler.ts` (tRPC's `resolveResponse` without web streams); anything else (chunked or
 * oversized bodies, other content types) through tRPC's standalone adapter; the relay of
 * collaborative edits (`FOLLOW_PATH`) through `runtime.serveFollow`; upgrades to the
 * collaborative-field socket (`DOC_SOCKET_PATH`) through `runtime.handleDocSocket`. Next.js
 * serves the same router through `runtime.handleFetch` (apps/web), with the same context.
 */
import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";

import type { ApiRuntime } from "@repo/api";
import {
  DOC_SOCKET_PATH,
  FOLLOW_PATH,
  MAX_REQUEST_BYTES,
  toHeaders,
} from "@repo/api";

import { createLeanHandler, isLeanRequest } from "./lean-handler";

export interface ApiHttpServerOptions {
  /** Default `MAX_REQUEST_BYTES`. */
  maxBodySize?: number;
}

/** An `http.Server` answering tRPC at `/` (call `listen` on it). */
export function createApiHttpServer(
  runtime: ApiRuntime,
  options: ApiHttpServerOptions = {},
): Server {
  const maxBodySize = options.maxBodySize ?? MAX_REQUEST_BYTES;
  const handle = createHTTPHandler({
    router: runtime.router,
    maxBodySize,
    createContext: ({ req }) => runtime.createContext(toHeaders(req.headers)),
    onError: runtime.onError,
  });
  const lean = createLeanHandler({
    router: runtime.router,
    createContext: (headers) => runtime.createContext(headers),
    onError: runtime.onError,
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
  const server = createServer((req, res) => {
    if (req.method === "GET" && req.url?.startsWith(`${FOLLOW_PATH}?`)) {
      void runtime.serveFollow(req, res);
      return;
    }
    if (req.method === "GET") {
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
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (req.url?.startsWith(`${DOC_SOCKET_PATH}?`))
      runtime.handleDocSocket(req, socket, head);
    else socket.destroy();
  });
  return server;
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
