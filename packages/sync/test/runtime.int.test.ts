/**
 * The runtime on the real stack: PostgreSQL, the sync server, the api over HTTP through
 * `@trpc/client`, the official `ShapeStream` underneath. Every published view is recorded, so
 * the assertions are on the sequence a user would have seen.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
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

import type { OutboxStorage, SyncClient, TabCoordinator } from "../src";
import {
  createSyncClient,
  createTabGroup,
  memoryOutbox,
  MutationRejectedError,
  trpcTransport,
} from "../src";
import { createSignedInUser } from "./support/signed-in-user";

const SECRET = randomBytes(16).toString("hex");
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Stack {
  syncUrl: string;
  apiUrl: string;
  userId: string;
  token: string;
  projectId: string;
  stopApi: () => Promise<void>;
  startApi: () => Promise<void>;
  /** Stops the sync server (its slot and stored shape logs stay) and starts it again, same port. */
  restartSync: (whileDown?: () => Promise<void>) => Promise<void>;
}

async function startStack(database: TestDatabase): Promise<Stack> {
  const api = createApiRuntime({ databaseUrl: database.url });
  cleanups.push(() => api.close());
  const storageDir = await mkdtemp(join(tmpdir(), "sync-runtime-shapes-"));
  cleanups.push(() => rm(storageDir, { recursive: true, force: true }));
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
  cleanups.push(() => sync.stopAndDropSlot());
  const restartSync = async (whileDown?: () => Promise<void>) => {
    await sync.stop();
    await whileDown?.();
    sync = await startSync(sync.port);
  };
  const { userId, token } = await createSignedInUser(database.url, "Runtime");
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
    syncUrl: sync.url,
    restartSync,
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
  options: {
    retryMs?: number;
    storage?: OutboxStorage;
    tabs?: TabCoordinator;
  } = {},
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
    shapeUrl: `${stack.syncUrl}/v1/shape`,
    shapeParams: { secret: SECRET },
    retry: { initialMs: options.retryMs ?? 50, maxMs: 200 },
    shapeLingerMs: 0,
    ...(options.storage && { storage: options.storage }),
    ...(options.tabs && { tabs: options.tabs }),
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
  "writes queued while the api and the sync server are down replay in order with the same ids when they return; another client sees them live",
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

    // The sync server goes down too, and comes back on its stored shape logs.
    await stack.restartSync(() => stack.startApi());
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

dbTest(
  "two runtimes sharing an outbox and a tab group show each other's writes and send each once",
  async ({ database }) => {
    const stack = await startStack(database);
    const storage = memoryOutbox();
    const joinGroup = createTabGroup();
    const first = runtimeFor(stack, { storage, tabs: joinGroup() });
    const second = runtimeFor(stack, { storage, tabs: joinGroup() });
    const [firstIssues, secondIssues] = [
      issuesOf(first, stack.projectId),
      issuesOf(second, stack.projectId),
    ];
    await Promise.all([upToDate(firstIssues), upToDate(secondIssues)]);

    const fromFirst = newIssue(stack.projectId, "From the first");
    const fromSecond = newIssue(stack.projectId, "From the second");
    const writes = [
      first.mutate(mutations.issues.create, fromFirst),
      second.mutate(mutations.issues.create, fromSecond),
    ];
    await expect
      .poll(() => secondIssues.getSnapshot().rows.has(fromFirst.id))
      .toBe(true);
    await expect
      .poll(() => firstIssues.getSnapshot().rows.has(fromSecond.id))
      .toBe(true);
    const results = await Promise.all(writes);
    // One mutation log row per write: sent once each, under consecutive ids of one client.
    const logged = await withClient(database.url, (client) =>
      client.query<{ mutation_id: string; txid: string }>(
        "SELECT mutation_id::text, txid::text FROM mutation_log WHERE client_id = $1 ORDER BY mutation_id",
        [first.clientId],
      ),
    );
    expect(second.clientId).toBe(first.clientId);
    expect(logged.rows.map((row) => Number(row.mutation_id))).toEqual([1, 2]);
    expect(logged.rows.map((row) => Number(row.txid)).sort()).toEqual(
      results.map((result) => result.txid).sort(),
    );
  },
);
