/**
 * The commit-then-relay path (`/docs/follow`): a follower gets each update only once Postgres
 * has committed it, only if it may read the document, never a refused one nor its own; and a
 * provider that follows sees others' edits while its log's shape is held back, without the
 * shape's rows changing anything when they come.
 */
import type { Message, Row, ShapeStreamOptions } from "@electric-sql/client";
import { isChangeMessage, ShapeStream } from "@electric-sql/client";
import { afterAll, describe, expect } from "vitest";

import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { RelayedDocUpdate } from "@repo/schema";
import { apiTest, tick } from "@repo/api/testing";
import { waitFor } from "@repo/test-support";

import type { LogStream } from "../src";
import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { apiClient } from "./support/api-client";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

const FIELD = "issues.description" as const;

let stack: CollabStack;
let project: CollabProject;
let db: Db;

apiTest.beforeAll(async ({ db: testDb, database }) => {
  db = testDb;
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
        const [first] = lines;
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

describe("a provider that follows the relay", () => {
  apiTest(
    "shows others' edits while its log's shape is held back, and the shape's rows change nothing",
    async () => {
      const rowId = await project.newIssue("Hello");
      const shape = heldShape();
      const reader = stack.provider(project.viewer, rowId, {
        createStream: shape.create,
      });
      const writer = stack.provider(project.member, rowId);
      await Promise.all([reader.whenSynced(), writer.whenSynced()]);
      shape.hold();
      let changes = 0;
      reader.doc.on("update", () => changes++);

      writer.text.insert(5, " world");
      writer.text.insert(0, ">> ");
      await waitFor(() => reader.text.toJSON() === ">> Hello world", {
        timeoutMs: 5_000,
      });
      const changesByRelay = changes;
      expect(changesByRelay).toBeGreaterThan(0);

      await writer.whenSynced();
      const [{ rows }] = await db.$queryRaw<[{ rows: bigint }]>`
        SELECT count(*) AS rows FROM doc_updates WHERE row_id = ${rowId}::uuid`;
      await shape.release(Number(rows));
      // The held rows came through the shape: nothing more to change.
      expect(shape.released).toBeGreaterThan(0);
      expect(changes).toBe(changesByRelay);
      expect(reader.text.toJSON()).toBe(">> Hello world");
      expect(reader.status).toBe("synced");
    },
  );
});

/** A log shape whose messages can be held back (as if replication lagged) and released. */
function heldShape() {
  let held = false;
  const backlog: Message<Row<unknown>>[][] = [];
  let deliver: (
    messages: Message<Row<unknown>>[],
  ) => void | Promise<void> = () => undefined;
  let released = 0;
  return {
    create: (options: ShapeStreamOptions<unknown>): LogStream => {
      const stream = new ShapeStream<Row<unknown>>(options);
      return {
        subscribe: (
          callback: (messages: Message<Row<unknown>>[]) => void | Promise<void>,
          onError?: (error: Error) => void,
        ) => {
          deliver = callback;
          return stream.subscribe((messages) => {
            if (held) backlog.push(messages);
            else return callback(messages);
          }, onError);
        },
      } as unknown as LogStream;
    },
    hold: () => {
      held = true;
    },
    /** Delivers what was held once it holds `inserts` rows, then lets the shape flow. */
    release: async (inserts: number) => {
      await waitFor(
        () =>
          backlog.flat().filter((message) => isChangeMessage(message)).length >=
          inserts,
      );
      for (let next = backlog.shift(); next; next = backlog.shift()) {
        released += next.length;
        await deliver(next);
      }
      held = false;
    },
    get released() {
      return released;
    },
  };
}
