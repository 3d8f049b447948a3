/**
 * The real stack for presence tests: the api over HTTP (tRPC's standalone adapter) and the
 * sync server, on one test database; a writer with a session, a project and an issue whose
 * description is the document.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { createTRPCClient, httpLink } from "@trpc/client";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import superjson from "superjson";

import type { AppRouter } from "@repo/api";
import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { TestDatabase } from "@repo/test-support";
import { createApiRuntime } from "@repo/api";
import { createUser, mutate, newId, tick } from "@repo/api/testing";
import { createLogger, startSyncServer } from "@repo/sync-server";

import { startServerProcess } from "./processes";

export interface PresenceStack {
  apiUrl: string;
  shapeUrl: string;
  secret: string;
  issueId: string;
  writers: TestUser[];
  /** A tRPC client signed in as `user`. */
  trpcAs(user: TestUser): ReturnType<typeof createTRPCClient<AppRouter>>;
  stop(): Promise<void>;
}

export interface PresenceStackOptions {
  writers?: number;
  /**
   * The api in a process of its own (apps/api-server) rather than this one: for tests in
   * jsdom, whose typed arrays are not the ones the database driver hands the api.
   */
  apiProcess?: boolean;
}

export async function startPresenceStack(
  database: TestDatabase,
  db: Db,
  options: PresenceStackOptions = {},
): Promise<PresenceStack> {
  const writerCount = options.writers ?? 2;
  const stops: Stops = [];
  const stop = async () => {
    for (const fn of stops.splice(0).reverse()) await fn();
  };
  try {
    const secret = randomBytes(16).toString("hex");
    const storageDir = await mkdtemp(join(tmpdir(), "presence-shapes-"));
    stops.push(() => rm(storageDir, { recursive: true, force: true }));
    const sync = await startSyncServer({
      databaseUrl: database.url,
      port: 0,
      secret,
      slotName: `slot_${database.name}`,
      publicationName: `pub_${database.name}`,
      storageDir,
      logger: createLogger("silent"),
    });
    stops.push(() => sync.stopAndDropSlot());
    const apiUrl = options.apiProcess
      ? await serveApiProcess(database.url, stops)
      : await serveApiHere(database.url, stops);

    const writers: TestUser[] = [];
    for (let i = 0; i < writerCount; i++)
      writers.push(await createUser(db, `Writer ${i + 1}`));
    const [owner, ...others] = writers;
    if (!owner) throw new Error("a presence stack needs a writer");
    const projectId = newId();
    await mutate(owner, "projects.create", {
      id: projectId,
      ownerMemberId: newId(),
      name: "P",
      at: tick(),
    });
    for (const other of others)
      await mutate(owner, "members.add", {
        id: newId(),
        projectId,
        userId: other.id,
        role: "member",
        at: tick(),
      });
    const issueId = newId();
    await mutate(owner, "issues.create", {
      id: issueId,
      projectId,
      title: "Issue",
      sortKey: "a0",
      at: tick(),
    });
    return {
      apiUrl,
      shapeUrl: `${sync.url}/v1/shape`,
      secret,
      issueId,
      writers,
      trpcAs: (user) =>
        createTRPCClient<AppRouter>({
          links: [
            httpLink({
              url: apiUrl,
              transformer: superjson,
              headers: { authorization: `Bearer ${user.token}` },
            }),
          ],
        }),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

type Stops = (() => Promise<unknown>)[];

async function serveApiHere(databaseUrl: string, stops: Stops) {
  const api = createApiRuntime({ databaseUrl });
  stops.push(() => api.close());
  const server = createHTTPServer({
    router: api.router,
    createContext: ({ req }) =>
      api.createContext(
        new Headers({ authorization: req.headers.authorization ?? "" }),
      ),
    onError: api.onError,
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  stops.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function serveApiProcess(databaseUrl: string, stops: Stops) {
  const api = await startServerProcess({
    dir: "apps/api-server",
    args: ["src/main.ts", databaseUrl, "0", "--quiet"],
    readyLine: /^listening (\d+)$/,
  });
  stops.push(() => api.stop());
  return `http://127.0.0.1:${api.ready[1]}`;
}
