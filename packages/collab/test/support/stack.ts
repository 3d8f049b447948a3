/**
 * The real stack for providers: the api over HTTP (tRPC's standalone adapter on an api
 * runtime) with its collaborative-field socket, the kit's sync server following PostgreSQL,
 * and providers signed in as test users, following the api's relay (`/docs/follow`, or the
 * socket's) beside the log's shape unless told otherwise.
 * Everything started here is stopped by `stop()`.
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";

import type { ApiRuntime } from "@repo/api";
import type { TestUser } from "@repo/api/testing";
import type { MutationTransport } from "@repo/sync";
import type { SyncServer } from "@repo/sync-server";
import type { TestDatabase } from "@repo/test-support";
import { createApiRuntime, FOLLOW_PATH } from "@repo/api";
import { trpcTransport } from "@repo/sync";
import { createLogger, startSyncServer } from "@repo/sync-server";

import type { CollabProvider, CollabProviderOptions } from "../../src";
import { createCollabProvider, directLogShape } from "../../src";
import { apiClient, apiFollow, apiSocket } from "./api-client";

const SECRET = randomBytes(16).toString("hex");

export interface CollabStack {
  runtime: () => ApiRuntime;
  /** The api's tRPC endpoint (`apiClient(apiUrl, user.token)`). */
  apiUrl: string;
  /** A provider of `issues.description` of `rowId`, as `user`. */
  provider: (
    user: TestUser,
    rowId: string,
    options?: Partial<CollabProviderOptions> & {
      /** Wraps the transport (e.g. to fail sends as if offline). */
      wrapTransport?: (transport: MutationTransport) => MutationTransport;
      /** Calls and relay over the api's socket (`DOC_SOCKET_PATH`) rather than HTTP and SSE. */
      socket?: boolean;
    },
  ) => CollabProvider;
  /**
   * Stops the api (HTTP server and runtime) and starts a new one on the same port. Warm
   * documents are per process and stay; every write checks them against the log anyway.
   */
  restartApi: () => Promise<void>;
  /**
   * Stops the sync server and starts it again on the same port and slot, with its stored
   * shapes or (`shapesKept: false`) without: their clients then get must-refetch.
   */
  restartSync: (options: { shapesKept: boolean }) => Promise<void>;
  stop: () => Promise<void>;
}

export async function startCollabStack(
  database: TestDatabase,
  /** `feed: false`: the relay carries the api's own commits only, and providers keep their shape. */
  { feed = true }: { feed?: boolean } = {},
): Promise<CollabStack> {
  const storageDir = await mkdtemp(join(tmpdir(), "collab-shapes-"));
  const startSync = (port: number) =>
    startSyncServer({
      databaseUrl: database.url,
      port,
      secret: SECRET,
      slotName: `slot_${database.name}`,
      publicationName: `pub_${database.name}`,
      storageDir,
      logger: createLogger("silent"),
    });
  let sync: SyncServer = await startSync(0);
  // With the sync server as its Electric, the relay reads every commit from the log's shape
  // and followers stop theirs (as in the web app).
  const runtimeOptions = {
    databaseUrl: database.url,
    ...(feed && { electric: { url: sync.url, secret: SECRET } }),
  };
  let runtime = createApiRuntime(runtimeOptions);
  // tRPC, the relay at FOLLOW_PATH and the socket, as the api server serves them.
  const upgraded = new Set<Duplex>();
  const serve = () => {
    const trpc = createHTTPHandler({
      router: runtime.router,
      createContext: ({ req }) =>
        runtime.createContext(
          new Headers({ authorization: req.headers.authorization ?? "" }),
        ),
      onError: runtime.onError,
    });
    return createServer((req, res) => {
      if (req.url?.startsWith(`${FOLLOW_PATH}?`))
        void runtime.serveFollow(req, res);
      else trpc(req, res);
    }).on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      upgraded.add(socket);
      socket.once("close", () => upgraded.delete(socket));
      runtime.handleDocSocket(req, socket, head);
    });
  };
  let server = serve();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const stopApi = async () => {
    await new Promise<void>((resolve) => {
      server.closeAllConnections();
      // Upgraded connections are not the server's to close, but its close waits for them.
      for (const socket of upgraded) socket.destroy();
      server.close(() => resolve());
    });
    await runtime.close();
  };
  const providers = new Set<CollabProvider>();
  const apiUrl = `http://127.0.0.1:${port}`;
  return {
    runtime: () => runtime,
    apiUrl,
    provider: (user, rowId, { wrapTransport, socket, ...options } = {}) => {
      const trpc = apiClient(apiUrl, user.token);
      const channel = socket
        ? apiSocket(apiUrl, user.token)
        : {
            transport: trpcTransport(trpc),
            follow: apiFollow(apiUrl, user.token),
          };
      const provider = createCollabProvider({
        field: "issues.description",
        rowId,
        ...channel,
        transport: (wrapTransport ?? ((transport) => transport))(
          channel.transport,
        ),
        load: (input, options) => trpc.docs.load.query(input, options),
        shape: directLogShape({
          url: `${sync.url}/v1/shape`,
          params: { secret: SECRET },
        }),
        retry: { initialMs: 20, maxMs: 200 },
        ...options,
      });
      providers.add(provider);
      return provider;
    },
    restartApi: async () => {
      await stopApi();
      runtime = createApiRuntime(runtimeOptions);
      server = serve();
      await new Promise<void>((resolve) =>
        server.listen(port, "127.0.0.1", resolve),
      );
    },
    restartSync: async ({ shapesKept }) => {
      await sync.stop();
      if (!shapesKept) {
        await rm(storageDir, { recursive: true, force: true });
        await mkdir(storageDir);
      }
      sync = await startSync(sync.port);
    },
    stop: async () => {
      for (const provider of providers) await provider.destroy();
      await stopApi();
      await sync.stopAndDropSlot();
      await rm(storageDir, { recursive: true, force: true });
    },
  };
}
