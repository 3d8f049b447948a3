/**
 * The commit-then-relay path (`/docs/follow`): a follower gets each update only once Postgres
 * has committed it, only if it may read the document, never a refused one nor its own. With its
 * feed (the api reading the log from the sync server) the relay is complete: a provider that
 * follows it stops its log's shape, still gets what other processes commit, and opens the
 * shape again while its stream is down. (Without a feed: relay-partial.int.test.ts.)
 */
import type { Row, ShapeStreamOptions } from "@electric-sql/client";
import type * as Y from "yjs";
import { ShapeStream } from "@electric-sql/client";
import { afterAll, describe, expect } from "vitest";

import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { RelayedDocUpdate } from "@repo/schema";
import type { TestDatabase } from "@repo/test-support";
import { createApiRuntime } from "@repo/api";
import { apiTest, tick } from "@repo/api/testing";
import { waitFor } from "@repo/test-support";

import type { FollowDoc } from "../src";
import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { apiClient, apiFollow } from "./support/api-client";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

const FIELD = "issues.description" as const;

let stack: CollabStack;
let project: CollabProject;
let db: Db;
let testDatabase: TestDatabase;

apiTest.beforeAll(async ({ db: testDb, database }) => {
  db = testDb;
  testDatabase = database;
  project = await createCollabProject(db);
  stack = await startCollabStack(database);
});
afterAll(() => stack.stop());

/**
 * Follows `rowId` on the api's relay as `token`'s user (the raw SSE, read here), with `query`
 * added; resolves once the relay answered (a 200 follows before its first byte).
 */
async function follow(token: string | null, rowId: string, query = "") {
  const received: RelayedDocUpdate[] = [];
  const ready: unknown[] = [];
  const onReceived: ((update: RelayedDocUpdate) => void)[] = [];
  const aborter = new AbortController();
  const response = await fetch(
    `${stack.apiUrl}/docs/follow?field=${FIELD}&row=${rowId}${query}`,
    {
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      signal: aborter.signal,
    },
  );
  const read = async (body: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = body.getReader();
    for (
      let next = await reader.read();
      !next.done;
      next = await reader.read()
    ) {
      buffer += decoder.decode(next.value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0;) {
        const lines = buffer.slice(0, end).split("\n");
        buffer = buffer.slice(end + 2);
        end = buffer.indexOf("\n\n");
        const [first, second] = lines;
        if (first === "event: ready" && second?.startsWith("data: "))
          ready.push(JSON.parse(second.slice(6)));
        if (!first?.startsWith("data: ")) continue;
        const update = JSON.parse(first.slice(6)) as RelayedDocUpdate;
        received.push(update);
        for (const listener of onReceived) listener(update);
      }
    }
  };
  if (response.ok && response.body) read(response.body).catch(() => undefined);
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    received,
    ready,
    onReceived: (listener: (update: RelayedDocUpdate) => void) =>
      onReceived.push(listener),
    stop: () => aborter.abort(),
  };
}

describe("the relay (/docs/follow)", () => {
  apiTest(
    "relays each update only after its transaction committed, to readers only",
    async () => {
      const rowId = await project.newIssue("Hello");
      const viewer = await follow(project.viewer.token, rowId);
      // Checked the moment each arrives: a relay ahead of COMMIT would find no row.
      const committed: boolean[] = [];
      viewer.onReceived((update) => {
        void db.$queryRaw<unknown[]>`
          SELECT 1 FROM doc_updates WHERE id = ${BigInt(update.id)}`.then(
          (rows) => committed.push(rows.length === 1),
        );
      });
      expect(viewer.status).toBe(200);
      expect(viewer.contentType).toBe("text/event-stream");
      const outsider = await follow(project.outsider.token, rowId);
      const anonymous = await follow(null, rowId);
      const malformed = await follow(project.viewer.token, "not-a-row");

      const writer = stack.provider(project.member, rowId, {
        follow: undefined,
      });
      await writer.whenSynced();
      for (const word of [" one", " two", " three"]) {
        writer.text.insert(writer.text.length, word);
        await writer.whenSynced();
      }
      await waitFor(() => committed.length >= 3);
      expect(committed.every(Boolean)).toBe(true);

      expect([outsider.status, anonymous.status, malformed.status]).toEqual([
        404, 401, 400,
      ]);
      viewer.stop();
      await waitFor(() => stack.runtime().collab.followers(FIELD, rowId) === 0);
    },
  );

  apiTest("never relays a refused update", async () => {
    const rowId = await project.newIssue("Hello");
    const follower = await follow(project.owner.token, rowId);
    // Through the stack's api, whose relay the follower is on.
    const update = (user: TestUser, bytes: string) =>
      apiClient(stack.apiUrl, user.token).docs.update.mutate({
        clientId: user.clientId,
        mutationId: user.nextMutationId++,
        args: { field: FIELD, rowId, update: bytes, at: tick() },
      });
    // Garbage, and a real update from a viewer, who may not edit.
    await expect(update(project.member, "AAEC")).rejects.toThrow();
    const writer = stack.provider(project.member, rowId, { follow: undefined });
    await writer.whenSynced();
    writer.text.insert(0, "> ");
    await writer.whenSynced();
    await waitFor(() => follower.received.length >= 1);
    const [first] = follower.received;
    expect(follower.received).toHaveLength(1);
    expect(first).toBeDefined();
    await expect(update(project.viewer, first?.update ?? "")).rejects.toThrow();
    // Another real edit: anything relayed in between would come before it.
    writer.text.insert(0, "!");
    await writer.whenSynced();
    await waitFor(() => follower.received.length >= 2);
    expect(follower.received).toHaveLength(2);
    expect(new Set(follower.received.map((row) => row.clientId)).size).toBe(1);
    follower.stop();
  });

  apiTest("does not send a follower its own client's updates", async () => {
    const rowId = await project.newIssue("Hello");
    const clientId = crypto.randomUUID();
    const own = await follow(
      project.member.token,
      rowId,
      `&client=${clientId}`,
    );
    const other = await follow(project.owner.token, rowId);
    const writer = stack.provider(project.member, rowId, {
      follow: undefined,
      clientId,
    });
    await writer.whenSynced();
    writer.text.insert(0, "> ");
    await writer.whenSynced();
    await waitFor(() => other.received.length >= 1);
    // Written to both in the same turn: what `own` would get, it has.
    expect(other.received[0]?.clientId).toBe(clientId);
    expect(own.received).toEqual([]);
    own.stop();
    other.stop();
  });
});

describe("a provider that follows the complete relay", () => {
  apiTest(
    "stops its log's shape once the relay is ready, and still gets what another process commits",
    async () => {
      const rowId = await project.newIssue("Hello");
      const raw = await follow(project.viewer.token, rowId);
      await waitFor(() => raw.ready.length === 1);
      expect(raw.ready).toEqual([{ complete: true, pingMs: 15_000 }]);
      raw.stop();

      const shapes = countedShapes();
      const reader = stack.provider(project.viewer, rowId, {
        createStream: shapes.create,
      });
      const writer = stack.provider(project.member, rowId);
      await Promise.all([reader.whenSynced(), writer.whenSynced()]);
      await shapes.openAre(0, "shape stopped");

      writer.text.insert(5, " world");
      await waitFor(() => reader.text.toJSON() === "Hello world");
      // Another api process (no relay of its own followed): only the feed can bring it.
      await editElsewhere(rowId, (text) => text.insert(0, ">> "));
      await waitFor(() => reader.text.toJSON() === ">> Hello world");
      expect(shapes.opened).toBe(1);
      expect(shapes.open).toBe(0);
    },
  );

  apiTest(
    "opens its shape again while the relay's stream is down, and misses nothing meanwhile",
    async () => {
      const rowId = await project.newIssue("Hello");
      const shapes = countedShapes();
      const relay = cuttableFollow(
        apiFollow(stack.apiUrl, project.viewer.token),
      );
      const reader = stack.provider(project.viewer, rowId, {
        createStream: shapes.create,
        follow: relay.follow,
      });
      await reader.whenSynced();
      await shapes.openAre(0, "shape stopped");

      relay.cut();
      await shapes.openAre(1, "shape reopened");
      await editElsewhere(rowId, (text) => text.insert(5, " world"));
      await waitFor(() => reader.text.toJSON() === "Hello world");

      relay.restore();
      await shapes.openAre(0, "shape stopped again");
      await editElsewhere(rowId, (text) => text.insert(0, ">> "));
      await waitFor(() => reader.text.toJSON() === ">> Hello world");
      expect(reader.status).toBe("synced");
    },
  );
});

describe("a provider that applies what the relay brings", () => {
  apiTest(
    "sends an edit that an observer makes in reply, with no load or send of its own pending",
    async () => {
      const rowId = await project.newIssue("Hello");
      const shapes = countedShapes();
      const a = stack.provider(project.member, rowId, {
        createStream: shapes.create,
      });
      const b = stack.provider(project.owner, rowId);
      await Promise.all([a.whenSynced(), b.whenSynced()]);
      await shapes.openAre(0, "a's shape stopped");
      await waitFor(() => a.status === "synced");
      // Run inside the provider's own transaction of the relayed update.
      a.text.observe((event) => {
        if (event.transaction.origin === a && !a.text.toJSON().endsWith("!"))
          a.text.insert(a.text.length, "!");
      });
      b.text.insert(5, " world");
      await waitFor(() => b.text.toJSON() === "Hello world!", {
        describe: () => `a: ${a.text.toJSON()}, b: ${b.text.toJSON()}`,
      });
      await a.whenSynced();
    },
  );
});

describe("the relay's feed of the log", () => {
  apiTest(
    "leaves out this runtime's own rows: each update reaches a follower once, own ones at commit",
    async () => {
      const rowId = await project.newIssue("Hello");
      const viewer = await follow(project.viewer.token, rowId);
      await waitFor(() => viewer.ready.length === 1);
      const writer = stack.provider(project.member, rowId, {
        follow: undefined,
      });
      await writer.whenSynced();
      for (const word of [" one", " two"]) {
        writer.text.insert(writer.text.length, word);
        await writer.whenSynced();
      }
      // Committed after the writer's rows: once the feed brought them, it had passed those.
      await editElsewhere(rowId, (text) => text.insert(0, "> "));
      await waitFor(() => viewer.received.length >= 3);
      await editElsewhere(rowId, (text) => text.insert(0, ">"));
      await waitFor(() => viewer.received.length >= 4);
      const ids = viewer.received.map((update) => update.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toHaveLength(4);
      viewer.stop();
    },
  );

  apiTest.for([
    { shapesKept: true, reopens: 0 },
    // Its shapes gone, the sync server answers the feed with must-refetch: the relay ends
    // every stream, and followers load again.
    { shapesKept: false, reopens: 1 },
  ])(
    "still brings another process' edits to a follower after the sync server restarts (shapes kept: $shapesKept)",
    async ({ shapesKept, reopens }) => {
      const rowId = await project.newIssue("Hello");
      const shapes = countedShapes();
      const reader = stack.provider(project.viewer, rowId, {
        createStream: shapes.create,
      });
      await reader.whenSynced();
      await shapes.openAre(0, "shape stopped");

      await stack.restartSync({ shapesKept });
      await editElsewhere(rowId, (text) => text.insert(5, " world"));
      await waitFor(() => reader.text.toJSON() === "Hello world");
      await editElsewhere(rowId, (text) => text.insert(0, ">> "));
      await waitFor(() => reader.text.toJSON() === ">> Hello world");
      await shapes.openAre(0, "shape stopped again");
      expect(shapes.opened).toBe(1 + reopens);
      expect(reader.status).toBe("synced");
    },
  );
});

const owner = () => ({
  id: project.owner.id,
  name: project.owner.name,
  email: `${project.owner.id}@example.com`,
});

/**
 * Edits the row's description from a second api runtime of the same database (another api
 * process, with no followers): only the relay's feed brings it to this process' followers.
 */
async function editElsewhere(rowId: string, edit: (text: Y.Text) => void) {
  const other = createApiRuntime({ databaseUrl: testDatabase.url });
  try {
    await other.collab.edit(owner(), { field: FIELD, rowId, edit });
  } finally {
    await other.close();
  }
}

/** Log shapes made through `create`, and how many are open (not yet aborted). */
function countedShapes() {
  let open = 0;
  let opened = 0;
  return {
    create: (options: ShapeStreamOptions<unknown>) => {
      opened++;
      open++;
      options.signal?.addEventListener("abort", () => open--, { once: true });
      return new ShapeStream<Row<unknown>>(options);
    },
    get open() {
      return open;
    },
    openAre: (count: number, what: string) =>
      waitFor(() => open === count, { describe: () => what }),
    get opened() {
      return opened;
    },
  };
}

/** A `follow` whose stream the test can end, and keep from opening again until restored. */
function cuttableFollow(inner: FollowDoc) {
  let down = false;
  let current: (() => void) | null = null;
  const follow: FollowDoc = (input, handlers) => {
    if (down) {
      const timer = setTimeout(() => handlers.onError(new Error("down")), 0);
      return { unsubscribe: () => clearTimeout(timer) };
    }
    const following = inner(input, handlers);
    current = () => {
      following.unsubscribe();
      handlers.onError(new Error("cut"));
    };
    return following;
  };
  return {
    follow,
    cut: () => {
      down = true;
      current?.();
    },
    restore: () => {
      down = false;
    },
  };
}
