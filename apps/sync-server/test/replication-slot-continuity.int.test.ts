/**
 * A shape log is served only while the slot can replay every transaction after it. When the
 * server cannot prove that (the slot was dropped and recreated, while running or while
 * stopped), it rotates the shapes: clients get 409 must-refetch and a fresh snapshot, as with
 * Electric, instead of a log with a hole.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { SyncServer, SyncServerOptions } from "../src/server";
import { createLogger } from "../src/logger";
import { dropReplication, startSyncServer } from "../src/server";
import { ourServerOnly } from "./support/harness";
import { Follower, NO_DIVERGENCE, settle } from "./support/mirror";
import { WRITER_TABLE_SQL } from "./support/writer";

let database: TestDatabase;
let sql: pg.Pool;
const servers: SyncServer[] = [];
const dirs: string[] = [];
const slots: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Pool({ connectionString: database.url, max: 4 });
});

afterAll(async () => {
  for (const server of servers) await server.stop();
  for (const slot of slots) await dropReplication(sql, slot, `pub_${slot}`);
  await sql.end();
  await database.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function setUp(name: string, storage: boolean) {
  await sql.query(WRITER_TABLE_SQL(name));
  await sql.query(
    `INSERT INTO ${name} SELECT g, 0, 1, 'seed' FROM generate_series(1, 20) g`,
  );
  const slot = `${name}_${database.name}`.slice(0, 63);
  slots.push(slot);
  const options: SyncServerOptions = {
    databaseUrl: database.url,
    port: 0,
    insecure: true,
    slotName: slot,
    publicationName: `pub_${slot}`,
    longPollTimeoutMs: 3_000,
    logger: createLogger("silent"),
  };
  if (storage) {
    const dir = await mkdtemp(join(tmpdir(), "sync-continuity-"));
    dirs.push(dir);
    options.storageDir = dir;
  }
  const server = await startSyncServer(options);
  servers.push(server);
  const follower = new Follower({
    url: `${server.url}/v1/shape`,
    params: { table: name },
  });
  await follower.until((f) => f.upToDate >= 1, 15_000);
  return { slot, options, server, follower };
}

async function expectConverged(name: string, follower: Follower) {
  const shape = { name, where: undefined, follower };
  expect(await settle(sql, name, shape, 20_000)).toEqual(NO_DIVERGENCE);
}

describe("slot continuity", () => {
  test("a slot lost while the server streams rotates every shape: clients refetch and converge", async (ctx) => {
    ourServerOnly(ctx, "drops our server's slot");
    const { slot, follower } = await setUp("lost_live", false);
    // One statement: the walsender is gone, the slot dropped and a row committed before the
    // server's next attempt (250 ms later) recreates the slot: no slot will ever replay it.
    await sql.query(`
      DO $$ BEGIN
        PERFORM pg_terminate_backend(active_pid, 5000) FROM pg_replication_slots WHERE slot_name = '${slot}';
        PERFORM pg_drop_replication_slot('${slot}');
        INSERT INTO lost_live VALUES (100, 0, 1, 'while no slot existed');
      END $$`);
    await expectConverged("lost_live", follower);
    expect(follower.mirror.refetches).toBeGreaterThanOrEqual(1);
    follower.stop();
  });

  test("stored shapes are dropped at start when the slot was recreated while the server was stopped", async (ctx) => {
    ourServerOnly(ctx, "restarts our server on its storage");
    const { slot, options, server, follower } = await setUp(
      "recreated_offline",
      true,
    );
    await server.stop();
    // As another process would: drop the slot, commit, create it again, commit.
    await sql.query("SELECT pg_drop_replication_slot($1)", [slot]);
    await sql.query(
      "INSERT INTO recreated_offline VALUES (100, 0, 1, 'while no slot existed')",
    );
    await sql.query(
      "SELECT pg_create_logical_replication_slot($1, 'pgoutput')",
      [slot],
    );
    await sql.query(
      "INSERT INTO recreated_offline VALUES (101, 0, 1, 'after the new slot')",
    );
    servers.push(await startSyncServer({ ...options, port: server.port }));
    await expectConverged("recreated_offline", follower);
    expect(follower.mirror.refetches).toBe(1);
    follower.stop();
  });
});
