/**
 * The slot's confirmed position is exactly what the server has processed: the end of the last
 * commit it handed on (or the WAL position Postgres reported between transactions), never a
 * byte more. Postgres resends every transaction whose commit record starts at or after the
 * confirmed position, so one byte too far skips a transaction committed right after the last
 * one; and a fast shutdown waits until the client confirms exactly what was sent.
 *
 * On a Postgres server of this file's own: the tests need its WAL quiet (nothing between two
 * commits but what the test writes) and the last one shuts it down.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { SyncServer } from "../src/server";
import type { DedicatedPostgres } from "./support/dedicated-postgres";
import { createLogger } from "../src/logger";
import { startSyncServer } from "../src/server";
import { startDedicatedPostgres } from "./support/dedicated-postgres";
import { ourServerOnly } from "./support/harness";
import { Follower } from "./support/mirror";
import {
  commitRecord,
  commitRightAfter,
  commitTransaction,
  confirmedLsn,
  waitFor,
  walInsertLsn,
} from "./support/slot";

const SLOT = "exact_slot";
let own: DedicatedPostgres;
let sql: pg.Pool;
let server: SyncServer;
let follower: Follower;

beforeAll(async () => {
  own = await startDedicatedPostgres("exact");
  sql = new pg.Pool({ connectionString: own.databaseUrl, max: 3 });
  // The last test shuts Postgres down under idle pooled connections.
  sql.on("error", () => undefined);
  await sql.query(`
    CREATE EXTENSION pg_walinspect;
    CREATE TABLE items (id int PRIMARY KEY, note text NOT NULL);
    ALTER TABLE items REPLICA IDENTITY FULL;
  `);
  server = await startSyncServer({
    databaseUrl: own.databaseUrl,
    port: 0,
    insecure: true,
    slotName: SLOT,
    publicationName: "exact_publication",
    longPollTimeoutMs: 3_000,
    logger: createLogger("silent"),
  });
  follower = new Follower({
    url: `${server.url}/v1/shape`,
    params: { table: "items" },
  });
  await follower.until((f) => f.upToDate >= 1, 15_000);
});

afterAll(async () => {
  // beforeAll may have failed before setting these: the chains let cleanup report that failure.
  /* eslint-disable @typescript-eslint/no-unnecessary-condition */
  follower?.stop();
  await server?.stop();
  await sql?.end();
  await own?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

/** Commits one transaction (visible to replication at once); returns its xid. */
const write = (...statements: string[]) => commitTransaction(sql, statements);

describe("the slot's confirmed position", () => {
  test("is exactly the end of the last commit the server processed", async (ctx) => {
    ourServerOnly(ctx, "reads our server's slot");
    for (let attempt = 1; ; attempt++) {
      const from = await walInsertLsn(sql);
      const xid = await write(`INSERT INTO items VALUES (${attempt}, 'a')`);
      const commit = await commitRecord(sql, xid, from);
      const confirmed = await waitFor(
        "the server to confirm the commit",
        async () => {
          const lsn = await confirmedLsn(sql, SLOT);
          return lsn >= commit.end ? lsn : undefined;
        },
      );
      // Only when nothing was written after the commit is its end the one right answer (a
      // record written meanwhile, e.g. by the checkpointer, may be confirmed as well).
      if ((await walInsertLsn(sql)) !== commit.end && attempt < 5) continue;
      expect(confirmed).toBe(commit.end);
      return;
    }
  });

  test("a transaction whose commit starts right at the confirmed position is delivered after a reconnect", async (ctx) => {
    ourServerOnly(ctx, "ends our server's replication connection");
    let adjacent = false;
    for (let attempt = 1; attempt <= 5 && !adjacent; attempt++) {
      const idA = 100 + attempt;
      adjacent = await commitRightAfter(sql, SLOT, {
        a: `INSERT INTO items VALUES (${idA}, 'A')`,
        b: `INSERT INTO items VALUES (${200 + attempt}, 'B')`,
        // The server resumes from the confirmed position on its next connection.
        between: async () => {
          await sql.query(
            "SELECT pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots WHERE slot_name = $1 AND active_pid IS NOT NULL",
            [SLOT],
          );
        },
      });
      await follower.until(
        (f) => f.mirror.rows.has(String(idA)),
        15_000,
        () => `A (id ${idA}) never arrived (adjacent: ${adjacent});`,
      );
    }
    // The premise held at least once (else the test proved nothing).
    expect(adjacent).toBe(true);
    expect(follower.mirror.twice).toBe(0);
  });

  // Last: it shuts this file's Postgres down.
  test("lets a fast shutdown of Postgres with the server connected complete within a second or two", async (ctx) => {
    ourServerOnly(ctx, "stops a Postgres server of its own");
    await write("INSERT INTO items VALUES (1000, 'before shutdown')");
    await follower.until((f) => f.mirror.rows.has("1000"), 10_000);
    const started = performance.now();
    const stopped = own.postgres.stop();
    const inTime = await Promise.race([
      stopped.then(() => true),
      new Promise<false>((resolve) => setTimeout(() => resolve(false), 10_000)),
    ]);
    const elapsed = performance.now() - started;
    if (!inTime) {
      // Postgres waits for the walsender's client: stopping the server lets it finish.
      await server.stop();
      await stopped;
    }
    expect(inTime).toBe(true);
    expect(elapsed).toBeLessThan(2_000);
  });
});
