/**
 * Lock order of a document's writers. A call that runs alone (the usual mutation path: a
 * malformed update, or one a batch passed over) takes its client's lock with `BEGIN`, then the
 * document's; a batch must take the same locks in the same order, or the two wait on each other
 * until Postgres' deadlock check (1 s) aborts one, and an aborted batch retried after the
 * single call was recorded finds its client's later id in the log and loses its call. In one
 * process a document's calls queue in one lane, so the two meet across api processes: here,
 * two database clients.
 */
import { TRPCError } from "@trpc/server";
import { expect } from "vitest";

import type { Db } from "@repo/db";
import { createDb, LOCK_NAMESPACE } from "@repo/db";

import { docLockKey } from "../src/collab/fields";
import {
  createDocProject,
  FIELD,
  holdOpen,
  newDocClient,
} from "./collab-support";
import { apiTest, callerFor } from "./support";

let project: Awaited<ReturnType<typeof createDocProject>>;
apiTest.beforeAll(async ({ db }) => {
  project = await createDocProject(db);
});

/** Backends of this database waiting for a lock. */
async function waiting(db: Db): Promise<number> {
  const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_locks
      WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
  );
  return row?.n ?? 0;
}

/** Whether two backends wait for each other (what Postgres' deadlock check would find). */
async function inACycle(db: Db): Promise<boolean> {
  const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM pg_stat_activity a, unnest(pg_blocking_pids(a.pid)) b
      WHERE a.pid = ANY(pg_blocking_pids(b))`,
  );
  return (row?.n ?? 0) > 0;
}

/** Polls until `check()` holds (bounded by the test's timeout). */
async function until(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise(setImmediate);
}

apiTest(
  "a batch and a single call of one client on one document never wait on each other in a circle",
  { timeout: 20_000 },
  async ({ db, database }) => {
    // A second api process: its own database client, so its own queues.
    const otherDb = createDb(database.url);
    const other = await callerFor(otherDb, {
      authorization: `Bearer ${project.member.token}`,
    });
    const client = await newDocClient(project);
    await client.send(client.typed("seed "));
    // Hold the document's lock, so both calls queue behind it: the batch first.
    const holder = holdOpen(db, (query) =>
      query(
        `SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext($1))::text AS locked`,
        [docLockKey(FIELD, client.rowId)],
      ),
    );
    await holder.pid;
    const before = await waiting(db);
    const batched = client.send(client.typed("kept "));
    await until(async () => (await waiting(db)) > before);
    // Not an update, sent to the other process: refused by the structural check, it runs alone
    // there at once (its lane is empty).
    const alone = client.call(
      Buffer.from("not an update").toString("base64"),
      other,
    );
    await until(async () => (await waiting(db)) > before + 1);
    holder.release();
    await holder.done;

    const state = { settled: false };
    const settled = Promise.allSettled([batched, alone]).then((results) => {
      state.settled = true;
      return results;
    });
    let circle = false;
    while (!state.settled) if (await inACycle(db)) circle = true;
    const [written, refused] = await settled;

    // No call lost: the first is written, the second refused as malformed, not out of order.
    expect(written.status).toBe("fulfilled");
    expect(refused.status === "rejected" && refused.reason).toBeInstanceOf(
      TRPCError,
    );
    expect(
      refused.status === "rejected" && (refused.reason as TRPCError).code,
    ).toBe("BAD_REQUEST");
    const loaded = await project.member.caller.docs.load({
      field: FIELD,
      rowId: client.rowId,
      stateVector: Buffer.from([0]).toString("base64"),
    });
    expect(loaded.text).toBe("kept seed ");
    expect(circle).toBe(false);
    await otherDb.$disconnect();
  },
);
