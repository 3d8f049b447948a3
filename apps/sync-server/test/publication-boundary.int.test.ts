/**
 * A table joins the publication at its first shape. Logical decoding never sends what a
 * transaction open at that moment wrote to the table before it, and a snapshot taken while that
 * transaction is open does not see it: the shape would lack those rows for good, and its
 * clients would get updates of rows they never had (the presence flake of the browser tests: a
 * tab's first heartbeat in flight while the document's first presence shape was created).
 */
import { expect } from "vitest";

import type { Logger } from "../src/logger";
import { createLogger } from "../src/logger";
import { syncTest } from "./support/fixture";
import { ourServerOnly } from "./support/harness";
import { Follower, NO_DIVERGENCE } from "./support/mirror";

let onWait: (() => void) | undefined;
const logger: Logger = {
  ...createLogger("silent"),
  info(message) {
    if (message.startsWith("table joined the publication")) onWait?.();
  },
};
const test = syncTest.override("serverOptions", {
  logger,
  openWritersWaitMs: 1_000,
});

test("a row written before its table joined the publication, by a transaction committed after the table's first shape was requested, reaches that shape", async ({
  h,
  table,
  skip,
}) => {
  ourServerOnly({ skip }, "reads our server's log to stage the race");
  const late = await table(
    "late_rows (id int PRIMARY KEY, note text NOT NULL)",
  );
  const open = await h.sql.connect();
  let follower: Follower | undefined;
  try {
    await open.query("BEGIN");
    await open.query("INSERT INTO late_rows VALUES (1, 'written first')");
    const waiting = new Promise<void>((resolve) => (onWait = resolve));
    follower = new Follower({ url: h.shapeUrl, params: { table: late } });
    // Before the fix the snapshot was taken at once, without the row; now it waits for this
    // transaction, which commits only after one or the other.
    await Promise.race([
      waiting,
      follower.until((f) => f.upToDate >= 1, 10_000),
    ]);
    await open.query("COMMIT");
    await h.write("UPDATE late_rows SET note = 'updated' WHERE id = 1");
    await h.write("INSERT INTO late_rows VALUES (2, 'written last')");
    await follower.until((f) => f.mirror.rows.has("2"), 10_000);
    const { rows } = await h.sql.query("SELECT id, note FROM late_rows");
    expect(follower.mirror.anomalies).toEqual([]);
    expect(follower.mirror.compare(rows)).toEqual(NO_DIVERGENCE);
  } finally {
    follower?.stop();
    // Nothing to undo once committed; ends the transaction if the test failed before.
    await open.query("ROLLBACK").catch(() => undefined);
    open.release();
  }
});

test("a table's first shape answers 503 while such a transaction stays open, and the next request waits for it again", async ({
  h,
  table,
  skip,
}) => {
  ourServerOnly({ skip }, "lowers our server's wait for open transactions");
  const slow = await table(
    "slow_rows (id int PRIMARY KEY, note text NOT NULL)",
  );
  const open = await h.sql.connect();
  let follower: Follower | undefined;
  try {
    await open.query("BEGIN");
    await open.query("INSERT INTO slow_rows VALUES (1, 'written first')");
    const refused = await fetch(
      h.shapeRequestUrl({ table: slow, offset: "-1" }),
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    // The table is in the publication now; the transaction is still open.
    const waiting = new Promise<void>((resolve) => (onWait = resolve));
    follower = new Follower({ url: h.shapeUrl, params: { table: slow } });
    await Promise.race([
      waiting,
      follower.until((f) => f.upToDate >= 1, 10_000),
    ]);
    await open.query("COMMIT");
    await h.write("INSERT INTO slow_rows VALUES (2, 'written last')");
    await follower.until((f) => f.mirror.rows.has("2"), 10_000);
    const { rows } = await h.sql.query("SELECT id, note FROM slow_rows");
    expect(follower.mirror.anomalies).toEqual([]);
    expect(follower.mirror.compare(rows)).toEqual(NO_DIVERGENCE);
  } finally {
    follower?.stop();
    await open.query("ROLLBACK").catch(() => undefined);
    open.release();
  }
});
