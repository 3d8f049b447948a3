/**
 * Postgres restarts (`pg_ctl restart -m fast`) under a writer while clients follow shapes. The
 * server runs one reconnect loop with backoff (a failed attempt closes its connection; only
 * the live stream delivers), so at most one walsender serves its slot, and the slot resends
 * whatever was not confirmed: a transaction cut by the disconnect arrives whole afterwards,
 * none is skipped or delivered twice, and every client ends equal to `SELECT`.
 *
 * On a Postgres server of this file's own (the suite's shared one serves other files).
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Logger } from "../src/logger";
import type { SyncServer } from "../src/server";
import type { DedicatedPostgres } from "./support/dedicated-postgres";
import { startSyncServer } from "../src/server";
import { startDedicatedPostgres } from "./support/dedicated-postgres";
import { ourServerOnly } from "./support/harness";
import {
  allUpToDate,
  followShapes,
  NO_DIVERGENCE,
  settle,
} from "./support/mirror";
import { watchWalsenders, within } from "./support/slot";
import { FAULT_LOAD, startWriter, WRITER_TABLE_SQL } from "./support/writer";

const SLOT = "restart_slot";
/** How long Postgres stays down: several reconnect attempts (250 ms, 500 ms, 1 s…) fail. */
const OUTAGE_MS = 2_500;
let own: DedicatedPostgres;
let sql: pg.Pool;
let server: SyncServer;
const warnings: string[] = [];

/** Counts what the server logs, to tell a reconnect storm from one reconnect. */
const logger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message) => warnings.push(message),
  error: (message) => warnings.push(message),
};

beforeAll(async () => {
  own = await startDedicatedPostgres("restart");
  sql = new pg.Pool({ connectionString: own.databaseUrl, max: 3 });
  // Postgres restarts under idle pooled connections.
  sql.on("error", () => undefined);
  await sql.query(WRITER_TABLE_SQL("items"));
  await sql.query(
    "INSERT INTO items SELECT g, g % 4, 1, 'seed' FROM generate_series(1, 200) g",
  );
  server = await startSyncServer({
    databaseUrl: own.databaseUrl,
    port: 0,
    insecure: true,
    slotName: SLOT,
    publicationName: "restart_publication",
    longPollTimeoutMs: 3_000,
    logger,
  });
});

afterAll(async () => {
  // beforeAll may have failed before setting these: the chains let cleanup report that failure.
  /* eslint-disable @typescript-eslint/no-unnecessary-condition */
  await server?.stop();
  await sql?.end();
  await own?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */
});

describe("Postgres restart", () => {
  test("of a few seconds under a writer leaves one walsender and every client equal to SELECT", async (ctx) => {
    ourServerOnly(ctx, "restarts a Postgres server of its own");
    const shapes = followShapes(`${server.url}/v1/shape`, "items", 6);
    await allUpToDate(shapes, 15_000);
    const writer = startWriter({
      databaseUrl: own.databaseUrl,
      table: "items",
      ...FAULT_LOAD,
    });
    const walsenders = watchWalsenders(sql);
    try {
      await writer.commits(60);
      // A fast shutdown waits for the walsender's client to confirm what was sent. Postgres
      // then stays down for OUTAGE_MS, long enough for reconnect attempts to fail.
      await within(own.postgres.stop(), 20_000, "the fast shutdown");
      await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
      await own.postgres.start();
      // Enough writes after the restart that they reach the server only through the new
      // connection, and the reconnect has had its backoff.
      await writer.commits(150);
    } finally {
      await writer.stop();
    }
    for (const shape of shapes) {
      expect
        .soft(await settle(sql, "items", shape, 30_000), shape.name)
        .toEqual(NO_DIVERGENCE);
      // The slot kept everything: no shape had to be rebuilt.
      expect.soft(shape.follower.mirror.refetches, shape.name).toBe(0);
      shape.follower.stop();
    }
    expect(await walsenders.stop()).toBeLessThanOrEqual(1);
    const lost = warnings.filter((text) => text.includes("connection lost"));
    expect(lost.length).toBeLessThanOrEqual(1);
    // The premises: the restart cut the writer's sessions, and reconnect attempts failed.
    expect(writer.failed).toBeGreaterThan(0);
    expect(
      warnings.filter((text) => text.includes("attempt failed")).length,
    ).toBeGreaterThan(0);
  }, 120_000);
});
