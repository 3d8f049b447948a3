/**
 * The full stack the browser tests run against, in this process: the sync server, the api
 * runtime, and one HTTP server for the page (server-rendered with the rows of `loadShape`), its
 * bundle (esbuild), a shape proxy and the tRPC endpoint. The api can be switched off (its
 * connections are dropped, as when the network is down) and counts the writes it received.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { renderToString } from "react-dom/server";
import superjson from "superjson";

import type { ApiRuntime } from "@repo/api";
import type { SyncServer } from "@repo/sync-server";
import { createApiRuntime } from "@repo/api";
import { withClient } from "@repo/dev-postgres";
import { mutationsByName } from "@repo/mutations";
import { createLogger, startSyncServer } from "@repo/sync-server";

import { createSyncClient, loadShape } from "../../src";
import { SyncProvider } from "../../src/react";
import { createSignedInUser } from "../support/signed-in-user";
import { Board } from "./board";

const SECRET = randomBytes(16).toString("hex");

export interface BrowserStack {
  url: string;
  userId: string;
  projectId: string;
  /** Drop api connections (true) or serve them (false). */
  setApiDown(down: boolean): void;
  /** `clientId:mutationId` of every write the api handled, in order. */
  handledWrites: string[];
  /** Issue titles in the database. */
  titles(): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startBrowserStack(database: {
  url: string;
  name: string;
}): Promise<BrowserStack> {
  const api: ApiRuntime = createApiRuntime({ databaseUrl: database.url });
  const sync: SyncServer = await startSyncServer({
    databaseUrl: database.url,
    port: 0,
    secret: SECRET,
    slotName: `slot_${database.name}`,
    publicationName: `pub_${database.name}`,
    logger: createLogger("silent"),
  });
  const { userId, token } = await createSignedInUser(database.url, "Browser");
  const projectId = randomUUID();
  const caller = await api.caller(
    new Headers({ authorization: `Bearer ${token}` }),
  );
  const at = new Date();
  await caller.projects.create({
    clientId: randomUUID(),
    mutationId: 1,
    args: { id: projectId, ownerMemberId: randomUUID(), name: "Board", at },
  });
  await caller.issues.create({
    clientId: randomUUID(),
    mutationId: 1,
    args: {
      id: randomUUID(),
      projectId,
      title: "Rendered on the server",
      sortKey: "a0",
      at,
    },
  });

  const bundle = await build({
    entryPoints: [fileURLToPath(new URL("./entry.tsx", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "browser",
    jsx: "automatic",
    // A development build: React reports hydration mismatches in full.
    define: { "process.env.NODE_ENV": '"development"' },
    logLevel: "silent",
  });
  const script = bundle.outputFiles[0]?.text ?? "";

  const handledWrites: string[] = [];
  let apiDown = false;

  const page = async (res: ServerResponse) => {
    const initial = await loadShape({
      url: `${sync.url}/v1/shape`,
      params: { secret: SECRET },
      shape: { table: "issues", where: "project_id = $1", params: [projectId] },
    });
    // Nothing is followed on the server: the client only serves the initial rows to render.
    const serverClient = createSyncClient({
      mutations: mutationsByName,
      actor: { userId },
      shapeUrl: "unused-on-the-server",
      transport: () =>
        Promise.reject(new Error("no writes during a server render")),
    });
    const html = renderToString(
      <SyncProvider client={serverClient}>
        <Board projectId={projectId} initial={initial} />
      </SyncProvider>,
    );
    serverClient.close();
    const boot = superjson
      .stringify({ userId, token, projectId, initial })
      .replaceAll("<", "\\u003c");
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(
      `<!doctype html><html><head><title>Board</title></head><body><div id="root">${html}</div>` +
        `<script id="boot" type="application/json">${boot}</script>` +
        `<script type="module" src="/app.js"></script></body></html>`,
    );
  };

  const shapeProxy = async (req: IncomingMessage, res: ServerResponse) => {
    const query = new URL(req.url ?? "/", "http://x").searchParams;
    query.set("secret", SECRET);
    const upstream = await fetch(`${sync.url}/v1/shape?${query.toString()}`);
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, key) => {
      if (
        !["content-encoding", "content-length", "transfer-encoding"].includes(
          key,
        )
      )
        headers[key] = value;
    });
    res.writeHead(upstream.status, headers);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };

  const trpc = async (req: IncomingMessage, res: ServerResponse) => {
    if (apiDown) {
      req.socket.destroy();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    if (req.method === "POST") {
      const envelope = (
        JSON.parse(body.toString() || "{}") as {
          json?: { clientId?: string; mutationId?: number };
        }
      ).json;
      handledWrites.push(`${envelope?.clientId}:${envelope?.mutationId}`);
    }
    const response = await api.handleFetch(
      new Request(new URL(req.url ?? "/", "http://localhost"), {
        method: req.method,
        headers: req.headers as Record<string, string>,
        ...(req.method === "POST" && { body }),
      }),
      { endpoint: "/api/trpc" },
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://x").pathname;
    const route =
      path === "/"
        ? page(res)
        : path === "/app.js"
          ? Promise.resolve(
              res
                .writeHead(200, { "content-type": "text/javascript" })
                .end(script),
            )
          : path === "/api/shape"
            ? shapeProxy(req, res)
            : path.startsWith("/api/trpc/")
              ? trpc(req, res)
              : Promise.resolve(
                  res.writeHead(path === "/favicon.ico" ? 204 : 404).end(),
                );
    route.catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    userId,
    projectId,
    handledWrites,
    setApiDown: (down) => {
      apiDown = down;
    },
    titles: () =>
      withClient(database.url, async (client) => {
        const { rows } = await client.query<{ title: string }>(
          "SELECT title FROM issues WHERE project_id = $1 ORDER BY title",
          [projectId],
        );
        return rows.map((row) => row.title);
      }),
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await sync.stopAndDropSlot();
      await api.close();
    },
  };
}
