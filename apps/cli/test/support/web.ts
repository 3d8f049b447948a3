/**
 * The web app's server side as the CLI meets it — `/api/auth/*`, `/api/trpc/*` and
 * `/api/shapes/<name>` — served from the api runtime's own handlers (what apps/web's route
 * handlers call, one line each) on a plain Node server, in front of the kit's sync server.
 * Responses stream through (long-polls, SSE); a client that goes away aborts its request.
 */
import { createServer } from "node:http";
import { Readable } from "node:stream";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ReadableStream as WebReadableStream } from "node:stream/web";

import type { ApiRuntime } from "@repo/api";
import { createApiRuntime } from "@repo/api";

export interface WebServer {
  url: string;
  /** Requests `/api/trpc` has received so far. */
  apiRequests: () => number;
  close: () => Promise<void>;
}

const SHAPE_PATH = /^\/api\/shapes\/([^/]+)$/;

function route(
  runtime: ApiRuntime,
  request: Request,
  countApi: () => void,
): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (pathname.startsWith("/api/trpc/")) {
    countApi();
    return runtime.handleFetch(request, { endpoint: "/api/trpc" });
  }
  if (pathname.startsWith("/api/auth/")) return runtime.handleAuth(request);
  const shape = SHAPE_PATH.exec(pathname)?.[1];
  if (shape) return runtime.handleShape(request, shape);
  return Promise.resolve(new Response("Not found", { status: 404 }));
}

function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal) {
  const headers = new Headers();
  for (const [name, values] of Object.entries(req.headersDistinct))
    for (const value of values ?? []) headers.append(name, value);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    signal,
    ...(hasBody && {
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: "half",
    }),
  });
}

export interface WebOptions {
  databaseUrl: string;
  syncUrl: string;
  syncSecret: string;
  /** Signs session tokens: the same across a restart, or every session ends. */
  authSecret: string;
}

export async function serveWeb(
  options: WebOptions,
  port = 0,
): Promise<WebServer> {
  const server = createServer();
  await new Promise<void>((resolve) =>
    server.listen(port, "127.0.0.1", resolve),
  );
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Built once the port is known: better-auth checks origins against its base URL.
  const runtime = createApiRuntime({
    databaseUrl: options.databaseUrl,
    auth: { secret: options.authSecret, baseURL: origin, rateLimit: false },
    electric: { url: options.syncUrl, secret: options.syncSecret },
  });
  let requests = 0;
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const aborter = new AbortController();
    res.once("close", () => aborter.abort());
    void route(
      runtime,
      toRequest(req, origin, aborter.signal),
      () => requests++,
    )
      .then((response) => {
        const headers: Record<string, string | string[]> = {};
        response.headers.forEach((value, name) => (headers[name] = value));
        const cookies = response.headers.getSetCookie();
        if (cookies.length > 0) headers["set-cookie"] = cookies;
        res.writeHead(response.status, headers);
        if (response.body)
          Readable.fromWeb(response.body as WebReadableStream)
            .on("error", () => res.destroy())
            .pipe(res);
        else res.end();
      })
      .catch(() => {
        if (res.headersSent) res.destroy();
        else res.writeHead(500).end();
      });
  });
  return {
    url: origin,
    apiRequests: () => requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    },
  };
}
