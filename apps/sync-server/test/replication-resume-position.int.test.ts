/**
 * At start the server cuts its stored logs back to the slot's confirmed position and the slot
 * replays from there. The position must be read once no other connection streams the slot:
 * a walsender still holding it (a killed previous run's, until it notices) may yet confirm a
 * later position, and streaming would then resume after transactions the cut removed — a hole
 * no client is told about.
 *
 * Staged: the server serves a transaction and is killed before confirming it; another
 * connection takes the slot and receives the transaction again; the server restarts, finds
 * the slot in use, and only then does the other connection confirm the transaction and let go.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { CrashableServer } from "./support/crash-server";
import { lsnToBigInt } from "../src/protocol/offset";
import { openReplicationConnection } from "../src/replication/connection";
import { dropReplication } from "../src/server";
import { startCrashableServer } from "./support/crash-server";
import { ourServerOnly } from "./support/harness";
import { Follower, NO_DIVERGENCE, settle } from "./support/mirror";
import {
  commitTransaction,
  confirmedLsn,
  slotReleased,
  waitFor,
  within,
} from "./support/slot";
import { WRITER_TABLE_SQL } from "./support/writer";

let database: TestDatabase;
let sql: pg.Pool;
let dir: string;
const servers: CrashableServer[] = [];
const slot = () => `resume_${database.name}`.slice(0, 63);

beforeAll(async () => {
  database = await createTestDatabase();
  sql = new pg.Pool({ connectionString: database.url, max: 4 });
  dir = await mkdtemp(join(tmpdir(), "sync-resume-test-"));
  await sql.query(WRITER_TABLE_SQL("items"));
  await sql.query(
    "INSERT INTO items SELECT g, 0, 1, 'seed' FROM generate_series(1, 5) g",
  );
});

afterAll(async () => {
  for (const server of servers) await server.kill();
  await dropReplication(sql, slot(), `pub_${slot()}`);
  await sql.end();
  await database.drop();
  await rm(dir, { recursive: true, force: true });
});

describe("resume position", () => {
  test("is read once no other connection streams the slot: logs are cut where streaming resumes", async (ctx) => {
    ourServerOnly(ctx, "kills our server and takes its slot");
    const options = {
      databaseUrl: database.url,
      port: 0,
      insecure: true,
      slotName: slot(),
      publicationName: `pub_${slot()}`,
      storageDir: dir,
      longPollTimeoutMs: 3_000,
    };
    // Confirmation held back: the transaction below is served, never confirmed.
    const first = await startCrashableServer({
      ...options,
      confirmIntervalMs: 3_600_000,
    });
    servers.push(first);
    const seen = new Follower({
      url: `${first.url}/v1/shape`,
      params: { table: "items" },
    });
    await seen.until((f) => f.upToDate >= 1, 15_000);
    await commitTransaction(sql, [
      "INSERT INTO items VALUES (100, 0, 1, 'served, not confirmed')",
    ]);
    await seen.until((f) => f.mirror.rows.has("100"), 10_000);
    seen.stop();
    await first.kill();
    await slotReleased(sql, slot());

    // Another connection takes the slot and gets the transaction again.
    let commitEnd = 0n;
    const other = await openReplicationConnection(options, {
      started: () => true,
      message: (message) => {
        if (message.tag === "commit")
          commitEnd = lsnToBigInt(message.commitEndLsn ?? "0/0");
      },
      keepalive: () => undefined,
    });
    await waitFor(
      "the other connection to receive the transaction",
      async () => (commitEnd > 0n ? true : undefined),
    );

    // The server restarts while the slot is held and says it waits for it; only then does the
    // other connection confirm the transaction and let go.
    let output = "";
    let sawSlotInUse: () => void = () => undefined;
    const slotInUse = new Promise<void>((resolve) => (sawSlotInUse = resolve));
    const starting = startCrashableServer(options, (text) => {
      output += text;
      if (output.includes("streamed by another connection")) sawSlotInUse();
    });
    await within(
      slotInUse,
      30_000,
      "the restarted server waiting for the slot",
    );
    other.confirm(commitEnd);
    await waitFor("the other connection's confirmation", async () =>
      (await confirmedLsn(sql, slot())) >= commitEnd ? true : undefined,
    );
    await other.close();
    const second = await starting;
    servers.push(second);

    await commitTransaction(sql, [
      "INSERT INTO items VALUES (101, 0, 1, 'after the restart')",
    ]);
    const fresh = new Follower({
      url: `${second.url}/v1/shape`,
      params: { table: "items" },
    });
    await fresh.until((f) => f.mirror.rows.has("101"), 15_000);
    expect(
      await settle(
        sql,
        "items",
        { name: "fresh", where: undefined, follower: fresh },
        10_000,
      ),
    ).toEqual(NO_DIVERGENCE);
    expect(fresh.mirror.rows.has("100")).toBe(true);
    fresh.stop();
  }, 60_000);
});
