/**
 * A table joins the publication at its first shape. Logical decoding never sends what a
 * transaction open at that moment wrote to the table before it, and a snapshot taken while that
 * transaction is open does not see it: the shape would lack those rows for good, and its
 * clients would get updates of rows they never had (the presence flake of the browser tests: a
 * tab's first heartbeat in flight while the document's first presence shape was created).
 */
import { expect } from "vitest";

import type { Logger } from "../src/logger";
import type { Harness } from "./support/harness";
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

/**
 * Inserts row 1 of `name` in a transaction left open, runs `meanwhile`, then has a follower
 * request the table's shape and commits once the server either waits for that transaction (the
 * fix) or has answered without it (before the fix: the snapshot lacked the row). Then writes
 * row 2 and checks that the follower holds exactly the table, having seen no update of a row
 * it lacked.
 */
async function followAcrossOpenWriter(
  h: Harness,
  name: string,
  meanwhile: () => Promise<void>,
): Promise<void> {
  const open = await h.sql.connect();
  let follower: Follower | undefined;
  try {
    await open.query("BEGIN");
    await open.query(`INSERT INTO ${name} VALUES (1, 'written first')`);
    await meanwhile();
    const waiting = new Promise<void>((resolve) => (onWait = resolve));
    follower = new Follower({ url: h.shapeUrl, params: { table: name } });
    await Promise.race([
      waiting,
      follower.until((f) => f.upToDate >= 1, 10_000),
    ]);
    await open.query("COMMIT");
    await h.write(`UPDATE ${name} SET note = 'updated' WHERE id = 1`);
    await h.write(`INSERT INTO ${name} VALUES (2, 'written last')`);
    await follower.until((f) => f.mirror.rows.has("2"), 10_000);
    const { rows } = await h.sql.query(`SELECT id, note FROM ${name}`);
    expect(follower.mirror.anomalies).toEqual([]);
    expect(follower.mirror.compare(rows)).toEqual(NO_DIVERGENCE);
  } finally {
    follower?.stop();
    // Nothing to undo once committed; ends the transaction if the test failed before.
    await open.query("ROLLBACK").catch(() => undefined);
    open.release();
  }
}

test("a row written before its table joined the publication, by a transaction committed after the table's first shape was requested, reaches that shape", async ({
  h,
  table,
  skip,
}) => {
  ourServerOnly({ skip }, "reads our server's log to stage the race");
  const late = await table(
    "late_rows (id int PRIMARY KEY, note text NOT NULL)",
  );
  await followAcrossOpenWriter(h, late, () => Promise.resolve());
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
  await followAcrossOpenWriter(h, slow, async () => {
    const refused = await fetch(
      h.shapeRequestUrl({ table: slow, offset: "-1" }),
    );
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
  });
});
