/**
 * The server killed with SIGKILL while a writer commits, three times, each time restarted on
 * the same storage and slot. Shape logs are reopened, cut back to the slot's confirmed
 * position and rebuilt by its replay; the slot's walsender from the killed run is waited for.
 * At each kill a transaction is open whose commit will start right where the last confirmed
 * one ended, the case a slot confirmed one byte too far skips. Clients keep their stream (the
 * official client retries) or reload from the handle and offset they stored: every one ends
 * equal to `SELECT`, with no change delivered twice, none missing and no refetch.
 *
 * On a Postgres server of this file's own, so that nothing else writes WAL between the two
 * commits (the writer pauses for them).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import { freePort } from "@repo/dev-postgres";

import type { CrashableServer } from "./support/crash-server";
import type { DedicatedPostgres } from "./support/dedicated-postgres";
import { startCrashableServer } from "./support/crash-server";
import { startDedicatedPostgres } from "./support/dedicated-postgres";
import { ourServerOnly } from "./support/harness";
import {
  allUpToDate,
  followShapes,
  NO_DIVERGENCE,
  settle,
} from "./support/mirror";
import { commitRightAfter } from "./support/slot";
import { FAULT_LOAD, startWriter, WRITER_TABLE_SQL } from "./support/writer";

const SLOT = "kill_slot";
let own: DedicatedPostgres;
let sql: pg.Pool;
let dir: string;
let server: CrashableServer | undefined;

beforeAll(async () => {
  own = await startDedicatedPostgres("kill");
  sql = new pg.Pool({ connectionString: own.databaseUrl, max: 4 });
  // This file's Postgres stops at the end, possibly before idle pooled connections have closed.
  sql.on("error", () => undefined);
  dir = await mkdtemp(join(tmpdir(), "sync-kill-test-"));
  await sql.query("CREATE EXTENSION pg_walinspect");
  await sql.query(WRITER_TABLE_SQL("items"));
  await sql.query(
    "INSERT INTO items SELECT g, g % 4, 1, 'seed' FROM generate_series(1, 200) g",
  );
});

afterAll(async () => {
  await server?.kill();
  // beforeAll may have failed before setting these: the chains let cleanup report that failure.
  /* eslint-disable @typescript-eslint/no-unnecessary-condition */
  await sql?.end();
  await own?.close();
  /* eslint-enable @typescript-eslint/no-unnecessary-condition */

  await rm(dir, { recursive: true, force: true });
});

describe("server killed during writes", () => {
  test("three SIGKILLs and restarts on the same storage: clients resuming from stored offsets converge to SELECT, nothing twice", async (ctx) => {
    ourServerOnly(ctx, "kills our server process");
    const options = {
      databaseUrl: own.databaseUrl,
      port: await freePort(),
      insecure: true,
      slotName: SLOT,
      publicationName: "kill_publication",
      storageDir: dir,
      longPollTimeoutMs: 3_000,
    };
    server = await startCrashableServer(options);
    const shapes = followShapes(`${server.url}/v1/shape`, "items", 6);
    await allUpToDate(shapes, 20_000);
    const handles = shapes.map(({ follower }) => follower.handle);
    const writer = startWriter({
      databaseUrl: own.databaseUrl,
      table: "items",
      ...FAULT_LOAD,
    });
    let adjacent = 0;
    try {
      for (let round = 0; round < 3; round++) {
        await writer.commits(75);
        await writer.pause();
        const killed = server;
        const touching = await commitRightAfter(sql, SLOT, {
          a: `INSERT INTO items VALUES (${1000 + round}, 0, 1, 'open across the kill')`,
          b: `INSERT INTO items VALUES (${2000 + round}, 1, 1, 'confirmed before the kill')`,
          between: () => killed.kill(),
        });
        if (touching) adjacent++;
        writer.resume();
        // Half the clients reload from what they stored (a page reload); the others' streams
        // retry on their own.
        for (const [index, { follower }] of shapes.entries())
          if (index % 2 === round % 2) follower.reload();
        await writer.commits(20);
        server = await startCrashableServer(options);
      }
      await writer.commits(75);
    } finally {
      writer.resume();
      await writer.stop();
    }
    for (const [index, shape] of shapes.entries()) {
      expect
        .soft(await settle(sql, "items", shape, 30_000), shape.name)
        .toEqual(NO_DIVERGENCE);
      expect.soft(shape.follower.mirror.refetches, shape.name).toBe(0);
      expect.soft(shape.follower.handle, shape.name).toBe(handles[index]);
      shape.follower.stop();
    }
    // The premise: at least one kill left a commit touching the confirmed one.
    expect(adjacent).toBeGreaterThan(0);
  }, 180_000);
});
