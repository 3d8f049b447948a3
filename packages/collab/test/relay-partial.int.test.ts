/**
 * A relay without a feed (an api given no Electric to read the log from) carries only its own
 * process' commits: a provider follows it beside its log's shape, which stays the record. It
 * shows others' edits while the shape is held back, and the shape's rows change nothing when
 * they come.
 */
import type { Message, Row, ShapeStreamOptions } from "@electric-sql/client";
import { isChangeMessage, ShapeStream } from "@electric-sql/client";
import { afterAll, describe, expect } from "vitest";

import type { Db } from "@repo/db";
import { apiTest } from "@repo/api/testing";
import { waitFor } from "@repo/test-support";

import type { LogStream } from "../src";
import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

let stack: CollabStack;
let project: CollabProject;
let db: Db;

apiTest.beforeAll(async ({ db: testDb, database }) => {
  db = testDb;
  project = await createCollabProject(db);
  stack = await startCollabStack(database, { feed: false });
});
afterAll(() => stack.stop());

describe("a provider that follows a relay without a feed", () => {
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
