/**
 * The server's database dropped `WITH (FORCE)` under it (as every test file's harness does at
 * its end): Postgres ends each session with 57P01, the pooled client a snapshot holds included.
 * The server keeps running and answering; it must not die of an unhandled 'error' event (pg's
 * pool listens on idle clients only, so a checked-out client's error had no listener). Under
 * load, that unhandled error surfaced in vitest and failed a whole run; the server runs in a
 * process of its own here, so the crash is seen as an exit, not as a failure of the run.
 */
import pg from "pg";
import { afterAll, expect, test } from "vitest";

import { freePort } from "@repo/dev-postgres";
import { createTestDatabase } from "@repo/test-support";

import type { CrashableServer } from "./support/crash-server";
import { startCrashableServer } from "./support/crash-server";
import { ourServerOnly } from "./support/harness";
import { lockWaiters } from "./support/locks";

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test("a database dropped WITH (FORCE) during a snapshot leaves the server running and answering", async (ctx) => {
  ourServerOnly(ctx, "drops the database under our server");
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const sql = new pg.Pool({ connectionString: database.url, max: 2 });
  // The drop ends this pool's sessions too; that is the point, not a failure of the test.
  sql.on("error", () => undefined);
  cleanups.push(() => sql.end());
  await sql.query(
    "CREATE TABLE items (id int PRIMARY KEY); ALTER TABLE items REPLICA IDENTITY FULL",
  );
  let output = "";
  const server: CrashableServer = await startCrashableServer(
    {
      databaseUrl: database.url,
      port: await freePort(),
      insecure: true,
      slotName: `slot_${database.name}`,
      publicationName: `pub_${database.name}`,
    },
    (text) => (output += text),
  );
  cleanups.push(() => server.kill());

  // A snapshot held on a checked-out client, waiting behind this lock when the drop comes.
  const holder = await sql.connect();
  holder.on("error", () => undefined);
  await holder.query("BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE");
  const snapshotRequest = fetch(`${server.url}/v1/shape?table=items&offset=-1`)
    .then((response) => response.status)
    .catch((error: unknown) => String(error));
  await lockWaiters(sql, "items", 1);

  await database.drop();
  holder.release(true);
  // The snapshot's failure is answered (with an error status); a crash ends the request without
  // one. The failed client's 'end' follows its query's rejection at once.
  const answer = await snapshotRequest;
  const health = await fetch(`${server.url}/v1/health`)
    .then((response) => response.body?.cancel())
    .then(() => "answered", String);
  expect({ status: server.exitStatus(), answer, health }, output).toEqual({
    status: null,
    answer: expect.any(Number) as unknown,
    health: "answered",
  });
}, 30_000);
