/**
 * Large transactions and idle-shape cleanup: a 100k-row transaction reaches a live client
 * whole (in chunks, up-to-date only after its last row); shapes nobody reads are dropped and
 * their old handles get 409.
 */
import { describe, expect } from "vitest";

import { syncTest } from "./support/fixture";
import {
  changeMessages,
  isUpToDate,
  ourServerOnly,
  record,
  startHarness,
  upToDateCount,
} from "./support/harness";

const test = syncTest.override("serverOptions", { chunkBytes: 512 * 1024 });
let big = "";

test.beforeAll(async ({ table }) => {
  // Small chunks so the big transaction spans many responses.
  big = await table("big (id int PRIMARY KEY, v text NOT NULL)");
});

describe("large transactions", () => {
  test("a 100,000-row transaction arrives complete, up-to-date only at its end", async ({
    h,
  }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: big },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const before = upToDateCount(recorded.messages);
    const xid = await h.write(
      "INSERT INTO big SELECT g, 'row ' || g FROM generate_series(1, 100000) g",
    );
    await recorded.until(
      (messages) => changeMessages(messages).length >= 100_000,
      60_000,
    );
    const changes = changeMessages(recorded.messages);
    expect(changes).toHaveLength(100_000);
    expect(new Set(changes.map((m) => m.key)).size).toBe(100_000);
    expect(changes.every((m) => m.headers.txids?.[0] === xid)).toBe(true);
    // No up-to-date between the first and the last row of the transaction.
    const firstIndex = recorded.messages.findIndex((m) => "key" in m);
    const lastIndex =
      recorded.messages.length -
      1 -
      [...recorded.messages].reverse().findIndex((m) => "key" in m);
    expect(
      recorded.messages.slice(firstIndex, lastIndex).some(isUpToDate),
    ).toBe(false);
    await recorded.until((messages) => upToDateCount(messages) > before);
    recorded.stop();
  }, 90_000);
});

describe("cleanup", () => {
  test("an unused shape is removed and its handle answers 409", async ({
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "needs a 1 s idle-shape limit and reads the server's shape registry",
    );
    // Its own server with a 1 s idle limit (cleanup runs every second).
    const quick = await startHarness({ shapeIdleMs: 1_000 });
    try {
      await quick.sql.query(
        "CREATE TABLE small (id int PRIMARY KEY); INSERT INTO small VALUES (1)",
      );
      const first = await fetch(`${quick.shapeUrl}?table=small&offset=-1`);
      const handle = first.headers.get("electric-handle") ?? "";
      const offset = first.headers.get("electric-offset") ?? "";
      await first.text();
      expect(quick.server.shapes.getByHandle(handle)).toBeDefined();
      for (
        let attempt = 0;
        attempt < 50 && quick.server.shapes.getByHandle(handle);
        attempt++
      )
        await new Promise((resolve) => setTimeout(resolve, 200));
      expect(quick.server.shapes.getByHandle(handle)).toBeUndefined();
      const again = await fetch(
        `${quick.shapeUrl}?table=small&offset=${offset}&handle=${handle}`,
      );
      expect(again.status).toBe(409);
      expect(again.headers.get("electric-handle")).not.toBe(handle);
      await again.text();
    } finally {
      await quick.close();
    }
  });
});
