/**
 * A TLS front speaking HTTP/2 (and HTTP/1.1 to clients without ALPN h2) before the app's
 * server, as production's TLS-terminating proxy does: browsers then multiplex every live shape
 * and every write over one connection instead of queueing on HTTP/1.1's six. The certificate is
 * self-signed, made here with openssl for 127.0.0.1 and valid one day (Chromium runs with
 * `--ignore-certificate-errors`).
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { createSecureServer } from "node:http2";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import type {
  Http2ServerRequest,
  Http2ServerResponse,
  ServerHttp2Session,
} from "node:http2";
import type { AddressInfo, Socket } from "node:net";

import { PROTOCOL_PARAMS } from "./protocol-params";

export interface Http2Front {
  /** `https://127.0.0.1:<port>`: what browsers open. */
  url: string;
  /**
   * The live shape requests (`/api/shapes/…?live=true`) of the browser whose cookie holds
   * `session` that are open now or open during the next `ms`: the most open at once, and which
   * shapes (Electric's position parameters left out). Counted here, where each request is
   * seen to end, not from a page's network log (which keeps requests a page left behind).
   */
  liveShapes(
    session: string,
    ms: number,
  ): Promise<{ mostOpen: number; shapes: string[] }>;
  stop(): Promise<void>;
}

interface OpenShape {
  shape: string;
  cookie: string;
}

/** Connection-specific headers, which HTTP/2 forbids and a proxy never forwards. */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "upgrade",
  "http2-settings",
  "te",
  "host",
]);

async function selfSignedCertificate(): Promise<{ key: Buffer; cert: Buffer }> {
  const dir = await mkdtemp(join(tmpdir(), "web-e2e-tls-"));
  try {
    await promisify(execFile)("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=127.0.0.1",
      "-addext",
      "subjectAltName=IP:127.0.0.1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
    ]);
    const [key, cert] = await Promise.all([
      readFile(join(dir, "key.pem")),
      readFile(join(dir, "cert.pem")),
    ]);
    return { key, cert };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function forwardedHeaders(request: Http2ServerRequest): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers))
    if (!name.startsWith(":") && !HOP_BY_HOP.has(name)) headers[name] = value;
  const host = request.headers[":authority"] ?? request.headers.host ?? "";
  // The app builds absolute URLs (redirects) from these: the browser's, not the backend's.
  headers.host = host;
  headers["x-forwarded-host"] = host;
  headers["x-forwarded-proto"] = "https";
  headers["x-forwarded-for"] = request.socket.remoteAddress ?? "";
  return headers;
}

function answerHeaders(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const answer: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers))
    if (!HOP_BY_HOP.has(name)) answer[name] = value;
  return answer;
}

/** Starts the front for the HTTP server at `target` (`http://127.0.0.1:<port>`). */
export async function startHttp2Front(target: string): Promise<Http2Front> {
  const backend = new URL(target);
  const server = createSecureServer({
    ...(await selfSignedCertificate()),
    allowHTTP1: true,
  });
  const openShapes = new Set<OpenShape>();
  const watchers = new Set<{
    session: string;
    mostOpen: number;
    shapes: Set<string>;
  }>();
  const openOf = (session: string) =>
    [...openShapes].filter((open) => open.cookie.includes(session));
  const track = (
    request: Http2ServerRequest,
    response: Http2ServerResponse,
  ) => {
    const url = new URL(request.url, "https://front");
    if (!url.pathname.startsWith("/api/shapes/")) return;
    if (url.searchParams.get("live") !== "true") return;
    for (const name of PROTOCOL_PARAMS) url.searchParams.delete(name);
    const open = {
      shape: `${url.pathname.slice("/api/shapes/".length)}${url.search}`,
      cookie: request.headers.cookie ?? "",
    };
    openShapes.add(open);
    response.once("close", () => openShapes.delete(open));
    for (const watcher of watchers) {
      if (!open.cookie.includes(watcher.session)) continue;
      watcher.shapes.add(open.shape);
      watcher.mostOpen = Math.max(
        watcher.mostOpen,
        openOf(watcher.session).length,
      );
    }
  };
  server.on(
    "request",
    (request: Http2ServerRequest, response: Http2ServerResponse) => {
      track(request, response);
      const upstream = httpRequest(
        {
          host: backend.hostname,
          port: backend.port,
          method: request.method,
          path: request.url,
          headers: forwardedHeaders(request),
        },
        (answer) => {
          response.writeHead(
            answer.statusCode ?? 502,
            answerHeaders(answer.headers),
          );
          // Streamed as it comes: long-polls and SSE must not wait for the end.
          answer.pipe(response);
        },
      );
      upstream.on("error", () => {
        if (!response.headersSent) response.writeHead(502).end();
        else response.destroy();
      });
      // The browser went away (navigation, an aborted long-poll): so does the request behind.
      response.on("close", () => {
        if (!response.writableFinished) upstream.destroy();
      });
      request.pipe(upstream);
    },
  );
  const sessions = new Set<ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });
  const sockets = new Set<Socket>();
  server.on("secureConnection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    liveShapes: async (session, ms) => {
      const now = openOf(session);
      const watcher = {
        session,
        mostOpen: now.length,
        shapes: new Set(now.map((open) => open.shape)),
      };
      watchers.add(watcher);
      await new Promise((resolve) => setTimeout(resolve, ms));
      watchers.delete(watcher);
      return { mostOpen: watcher.mostOpen, shapes: [...watcher.shapes].sort() };
    },
    stop: async () => {
      const closed = new Promise<void>((resolve) =>
        server.close(() => resolve()),
      );
      // Open connections (a browser's, live requests) would hold close() up.
      for (const session of sessions) session.destroy();
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}
