/**
 * The runtime on the real stack: PostgreSQL, the sync server, the api over HTTP through
 * `@trpc/client`, the official `ShapeStream` underneath. Every published view is recorded, so
 * the assertions are on the sequence a user would have seen.
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { createTRPCClient, httpLink } from "@trpc/client";
import { createHTTPServer } from "@trpc/server/adapters/standalone";
import superjson from "superjson";
import { afterEach, expect } from "vitest";

import type { AppRouter } from "@repo/api";
import type { SyncServer } from "@repo/sync-server";
import type { TestDatabase } from "@repo/test-support";
import { createApiRuntime } from "@repo/api";
import { withClient } from "@repo/dev-postgres";
import { mutations, mutationsByName } from "@repo/mutations";
import { createLogger, startSyncServer } from "@repo/sync-server";
import { dbTest } from "@repo/test-support";

import type { SyncClient } from "../src";
import { createSyncClient, MutationRejectedError, trpcTransport } from "../src";

const SECRET = randomBytes(16).toString("hex");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Stack {
  sync: SyncServer;
  apiUrl: string;
  userId: string;
  token: string;
  projectId: string;
  stopApi: () => Promise<void>;
  startApi: () => Promise<void>;
}

async function startStack(database: TestDatabase): Promise<Stack> {
  const api = createApiRuntime({ databaseUrl: database.url });
  cleanups.push(() => api.close());
  const sync = await startSyncServer({
    databaseUrl: database.url,
    port: 0,
    secret: SECRET,
    slotName: `slot_${database.name}`,
    publicationName: `pub_${database.name}`,
    logger: createLogger("silent"),
  });
  cleanups.push(() => sync.stopAndDropSlot());
  const userId = randomUUID();
  const token = randomBytes(16).toString("hex");
  await withClient(database.url, async (client) => {
    await client.query(
      "INSERT INTO users (id, name, email) VALUES ($1, 'Runtime', $2)",
      [userId, `${userId}@example.com`],
    );
    await client.query(
      "INSERT INTO sessions (token, user_id, expires_at) VALUES ($1, $2, now() + interval '1 hour')",
      [token, userId],
    );
  });
  const serve = () =>
    createHTTPServer({
      router: api.router,
      createContext: ({ req }) =>
        api.createContext(
          new Headers({ authorization: req.headers.authorization ?? "" }),
        ),
      onError: api.onError,
    });
  let server = serve();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const stopApi = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  const startApi = async () => {
    server = serve();
    await new Promise<void>((resolve) =>
      server.listen(port, "127.0.0.1", resolve),
    );
  };
  cleanups.push(() => (server.listening ? stopApi() : undefined));
  const stack = {
    sync,
    apiUrl: `http://127.0.0.1:${port}`,
    userId,
    token,
    projectId: randomUUID(),
    stopApi,
    startApi,
  };
  // The project everything happens in, created through the runtime's own path.
  const setupClient = runtimeFor(stack);
  await setupClient.mutate(mutations.projects.create, {
    id: stack.projectId,
    ownerMemberId: randomUUID(),
    name: "Runtime project",
    at: new Date(),
  });
  setupClient.close();
  return stack;
}

function runtimeFor(
  stack: Stack,
  options: { retryMs?: number } = {},
): SyncClient {
  const trpc = createTRPCClient<AppRouter>({
    links: [
      httpLink({
        url: stack.apiUrl,
        transformer: superjson,
        headers: { authorization: `Bearer ${stack.token}` },
      }),
    ],
  });
  const client = createSyncClient({
    mutations: mutationsByName,
    transport: trpcTransport(trpc),
    actor: { userId: stack.userId },
    shapeUrl: `${stack.sync.url}/v1/shape`,
    shapeParams: { secret: SECRET },
    retry: { initialMs: options.retryMs ?? 50, maxMs: 200 },
    shapeLingerMs: 0,
  });
  cleanups.push(() => client.close());
  return client;
}

function issuesOf(client: SyncClient, projectId: string) {
  return client.shape({
    table: "issues",
    where: "project_id = $1",
    params: [projectId],
    matches: (issue) => issue.projectId === projectId,
  });
}

async function upToDate(
  subscription: ReturnType<typeof issuesOf>,
): Promise<void> {
  if (subscription.getSnapshot().isUpToDate) return;
  await new Promise<void>((resolve) => {
    const off = subscription.subscribe(() => {
      if (!subscription.getSnapshot().isUpToDate) return;
      off();
      resolve();
    });
  });
}

const newIssue = (projectId: string, title: string) => ({
  id: randomUUID(),
  projectId,
  title,
  sortKey: "a0",
  at: new Date(),
});

dbTest(
  "the optimistic row shows in the same tick as mutate and is replaced by the synced row on its txid, with no state in between",
  async ({ database }) => {
    const stack = await startStack(database);
    const client = runtimeFor(stack);
    const issues = issuesOf(client, stack.projectId);
    await upToDate(issues);
    const input = newIssue(stack.projectId, "Optimistic, then synced");
    const published: { title?: string; pending: boolean }[] = [];
    issues.subscribe(() => {
      const snapshot = issues.getSnapshot();
      published.push({
        title: snapshot.rows.get(input.id)?.title,
        pending: snapshot.isPending(input.id),
      });
    });

    const synced = client.mutate(mutations.issues.create, input);
    expect(issues.getSnapshot().rows.get(input.id)?.title).toBe(input.title);
    const { txid } = await synced;

    expect(txid).toBeGreaterThan(0);
    expect(published.length).toBeGreaterThanOrEqual(2);
    expect(published.every((view) => view.title === input.title)).toBe(true);
    expect(published.at(0)?.pending).toBe(true);
    expect(published.at(-1)?.pending).toBe(false);
    // The row now comes from the shape: the server's copy, with the creator it set.
    expect(issues.getSnapshot().rows.get(input.id)).toMatchObject({
      creatorId: stack.userId,
      title: input.title,
    });
  },
);

dbTest(
  "a refused write rolls back with the api's error while a later pending write stays",
  async ({ database }) => {
    const stack = await startStack(database);
    const client = runtimeFor(stack);
    const issues = issuesOf(client, stack.projectId);
    await upToDate(issues);
    const original = newIssue(stack.projectId, "Original");
    await client.mutate(mutations.issues.create, original);

    // Same id again: the server refuses it (duplicate); the row it covered comes back.
    const duplicate = client.mutate(mutations.issues.create, {
      ...original,
      title: "Duplicate",
    });
    const later = newIssue(stack.projectId, "Later");
    const laterWrite = client.mutate(mutations.issues.create, later);
    expect(issues.getSnapshot().rows.get(original.id)?.title).toBe("Duplicate");

    const error = await duplicate.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MutationRejectedError);
    expect(error).toMatchObject({ code: "CONFLICT", reason: "duplicate" });
    expect(issues.getSnapshot().rows.get(original.id)?.title).toBe("Original");
    expect(issues.getSnapshot().rows.has(later.id)).toBe(true);
    await laterWrite;
    expect(issues.getSnapshot().rows.get(later.id)?.title).toBe("Later");
  },
);

dbTest(
  "writes queued while the api is down replay in order with the same ids when it returns; another client sees them live",
  async ({ database }) => {
    const stack = await startStack(database);
    const writer = runtimeFor(stack);
    const reader = runtimeFor(stack);
    const writerIssues = issuesOf(writer, stack.projectId);
    const readerIssues = issuesOf(reader, stack.projectId);
    await Promise.all([upToDate(writerIssues), upToDate(readerIssues)]);

    await stack.stopApi();
    const inputs = [
      newIssue(stack.projectId, "Offline one"),
      newIssue(stack.projectId, "Offline two"),
    ];
    const writes = inputs.map((input) =>
      writer.mutate(mutations.issues.create, input),
    );
    await expect
      .poll(() => writer.getStatus().connection, { timeout: 5_000 })
      .toBe("offline");
    expect(writer.getStatus().pending).toBe(2);
    expect(
      [...writerIssues.getSnapshot().rows.values()]
        .map((issue) => issue.title)
        .sort(),
    ).toEqual(["Offline one", "Offline two"]);
    const ids = writer.pendingWrites().map((write) => write.mutationId);

    await stack.startApi();
    writer.retryNow();
    const results = await Promise.all(writes);
    expect(results.map((result) => result.txid)).toEqual(
      [...results.map((r) => r.txid)].sort((a, b) => a - b),
    );
    expect(ids).toEqual([ids[0], (ids[0] ?? 0) + 1]);
    await expect
      .poll(
        () =>
          [...readerIssues.getSnapshot().rows.values()]
            .map((issue) => issue.title)
            .sort(),
        { timeout: 10_000 },
      )
      .toEqual(["Offline one", "Offline two"]);
    expect(writer.getStatus()).toMatchObject({ pending: 0 });
  },
);
