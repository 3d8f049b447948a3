/**
 * `log=changes_only` over SSE with a subset snapshot (TanStack DB's on-demand mode): a
 * transaction that commits while the subset snapshot is read, so that the snapshot does not
 * see it, still reaches the client through the stream. The client resumes its stream from the
 * subset answer's `electric-offset`, so that offset must not be past such a transaction.
 */
import { describe, expect } from "vitest";

import { syncTest as test } from "./support/fixture";
import {
  changeMessages,
  ourServerOnly,
  record,
  upToDateCount,
} from "./support/harness";
import { lockWaiters } from "./support/locks";

const ROWS = 1_000;
let stock = "";

test.beforeAll(async ({ h, table }) => {
  stock = await table("stock (id int PRIMARY KEY, qty int NOT NULL)");
  await h.sql.query(
    `INSERT INTO stock SELECT g, 100 FROM generate_series(1, ${ROWS}) g`,
  );
});

describe("changes_only, SSE and a subset snapshot", () => {
  test("an update committed while a subset snapshot is read, and not in it, arrives through the stream", async ({
    h,
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "stages the race with a lock our subset query waits on",
    );
    const recorded = record({
      url: h.shapeUrl,
      params: { table: stock },
      log: "changes_only",
      liveSse: true,
    });
    // Another client of the same shape shows when the update is in the shape log.
    const observer = record({
      url: h.shapeUrl,
      params: { table: stock },
      log: "changes_only",
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await observer.until((messages) => upToDateCount(messages) >= 1);
    const writer = await h.sql.connect();
    const holder = await h.sql.connect();
    try {
      // The update is made (its lock held) before the subset's snapshot is taken. A second
      // lock queued ahead of the subset query holds it back after the update commits, until
      // the update is in the shape log: the snapshot cannot see the update, and the log has it
      // before the subset answer is sent.
      await writer.query("BEGIN");
      await writer.query("LOCK TABLE stock IN ACCESS EXCLUSIVE MODE");
      await writer.query("UPDATE stock SET qty = 101 WHERE id = 1");
      await holder.query("BEGIN");
      const held = holder.query("LOCK TABLE stock IN ACCESS EXCLUSIVE MODE");
      await lockWaiters(h.sql, "stock", 1);
      const subset = recorded.stream.requestSnapshot({ where: "id > 0" });
      await lockWaiters(h.sql, "stock", 2);
      await writer.query("COMMIT");
      await held;
      await observer.until((messages) =>
        changeMessages(messages).some((message) => message.value.id === 1),
      );
      await holder.query("ROLLBACK");
      const { data } = await subset;
      expect(data).toHaveLength(ROWS);
      expect(data.find((row) => row.value.id === 1)?.value.qty).toBe(100);
    } finally {
      await writer.query("ROLLBACK").catch(() => undefined);
      await holder.query("ROLLBACK").catch(() => undefined);
      writer.release();
      holder.release();
      observer.stop();
    }
    await recorded.until(
      (messages) =>
        changeMessages(messages).some(
          (message) =>
            message.headers.operation === "update" &&
            message.value.id === 1 &&
            message.value.qty === 101,
        ),
      10_000,
    );
    recorded.stop();
  }, 30_000);
});
