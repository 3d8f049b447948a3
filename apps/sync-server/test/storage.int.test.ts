/**
 * Shape logs on disk: after a restart, clients resume from their offset under the same handle
 * and receive the changes committed while the server was down (replayed from the slot) exactly
 * once; a stored shape whose table changed meanwhile, or whose slot had to be created anew, is
 * dropped and its clients refetch (409).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect } from "vitest";

import { syncTest } from "./support/fixture";
import {
  changeMessages,
  ourServerOnly,
  record,
  upToDateCount,
} from "./support/harness";

// Each file's own storage directory, removed after its server is closed.
const test = syncTest.override(
  "serverOptions",
  { scope: "file" },
  async ({}, { onCleanup }) => {
    const storageDir = await mkdtemp(join(tmpdir(), "sync-storage-test-"));
    onCleanup(() => rm(storageDir, { recursive: true, force: true }));
    return { storageDir };
  },
);
let docs = "";
let other = "";

test.beforeAll(async ({ h, table }) => {
  docs = await table("docs (id int PRIMARY KEY, body text NOT NULL)");
  await h.sql.query(
    "INSERT INTO docs SELECT g, 'doc ' || g FROM generate_series(1, 50) g",
  );
  other = await table("other (id int PRIMARY KEY, v text)");
});

describe("disk storage", () => {
  test("clients resume across a restart without refetching and miss nothing", async ({
    h,
    skip,
  }) => {
    ourServerOnly({ skip }, "restarts our server with disk storage");
    const recorded = record({
      url: h.shapeUrl,
      params: { table: docs, where: "id > $1", params: ["10"] },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write("INSERT INTO docs VALUES (100, 'before restart')");
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 100),
    );
    const handle = recorded.stream.shapeHandle;
    const offset = recorded.stream.lastOffset;
    recorded.stop();

    await h.server.stop();
    // Written while the server is down: only the slot keeps it.
    const xid = await h.write(
      "UPDATE docs SET body = 'while down' WHERE id = 20",
      "INSERT INTO docs VALUES (101, 'while down')",
    );
    await h.restart();

    const resumed = record({
      url: h.shapeUrl,
      params: { table: docs, where: "id > $1", params: ["10"] },
      handle,
      offset,
    });
    await resumed.until((messages) => changeMessages(messages).length >= 2);
    await h.write("INSERT INTO docs VALUES (102, 'after restart')");
    await resumed.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 102),
    );
    expect(
      resumed.messages.some(
        (m) => "control" in m.headers && m.headers.control === "must-refetch",
      ),
    ).toBe(false);
    expect(resumed.stream.shapeHandle).toBe(handle);
    expect(
      changeMessages(resumed.messages).map((m) => [
        m.headers.operation,
        m.value,
        m.headers.txids,
      ]),
    ).toEqual([
      ["update", { id: 20, body: "while down" }, [xid]],
      ["insert", { id: 101, body: "while down" }, [xid]],
      ["insert", { id: 102, body: "after restart" }, expect.any(Array)],
    ]);
    resumed.stop();
  });

  test("a stored shape whose table changed while stopped is dropped (409 → refetch)", async ({
    h,
    skip,
  }) => {
    ourServerOnly({ skip }, "restarts our server with disk storage");
    const recorded = record({
      url: h.shapeUrl,
      params: { table: other },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const handle = recorded.stream.shapeHandle;
    const offset = recorded.stream.lastOffset;
    recorded.stop();
    await h.server.stop();
    await h.sql.query("ALTER TABLE other ADD COLUMN extra int");
    await h.sql.query("INSERT INTO other VALUES (1, 'x', 5)");
    await h.restart();
    const resumed = record({
      url: h.shapeUrl,
      params: { table: other },
      handle,
      offset,
    });
    await resumed.until((messages) => changeMessages(messages).length === 1);
    expect(resumed.messages[0]?.headers).toEqual({ control: "must-refetch" });
    expect(changeMessages(resumed.messages)[0]?.value).toEqual({
      id: 1,
      v: "x",
      extra: 5,
    });
    expect(resumed.stream.shapeHandle).not.toBe(handle);
    resumed.stop();
  });

  test("stored shapes are dropped when the slot had to be created anew (409, never a gap)", async ({
    h,
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "restarts our server with disk storage and drops its slot",
    );
    const recorded = record({
      url: h.shapeUrl,
      params: { table: docs },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const handle = recorded.stream.shapeHandle;
    const offset = recorded.stream.lastOffset;
    recorded.stop();
    await h.server.stop();
    // The slot is gone (dropped by hand, or a restored database): what is committed now can
    // never be replayed to the stored log.
    await h.sql.query(
      "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()",
    );
    await h.write("INSERT INTO docs VALUES (200, 'in the gap')");
    await h.restart();

    const resumed = record({
      url: h.shapeUrl,
      params: { table: docs },
      handle,
      offset,
    });
    await resumed.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 200),
    );
    expect(resumed.messages[0]?.headers).toEqual({ control: "must-refetch" });
    expect(resumed.stream.shapeHandle).not.toBe(handle);
    resumed.stop();
  });
});
