/**
 * The txid a mutation returns is the xid under which its changes appear in the logical
 * replication stream, which is where Electric takes the `txids` of shape messages from. Read
 * with the `test_decoding` plugin (one row per change, each with its transaction's xid).
 */
import { expect } from "vitest";

import { withClient } from "@repo/dev-postgres";

import type { TestUser } from "./support";
import {
  apiTest,
  createUser,
  mutate,
  newId,
  procedureOf,
  tick,
} from "./support";

/**
 * `streamedChanges()`: the changes decoded since its last call, `{ xid, data }` per inserted,
 * updated or deleted row, from a `test_decoding` slot on the file's database.
 */
const test = apiTest.extend(
  "streamedChanges",
  { scope: "file" },
  async ({ database }, { onCleanup }) => {
    const slot = `txids_${database.name}`;
    await withClient(database.url, (client) =>
      client.query(
        `SELECT pg_create_logical_replication_slot($1, 'test_decoding')`,
        [slot],
      ),
    );
    onCleanup(async () => {
      await withClient(database.url, (client) =>
        client.query(`SELECT pg_drop_replication_slot($1)`, [slot]),
      );
    });
    return async () => {
      const { rows } = await withClient(database.url, async (client) => {
        // The test cluster commits asynchronously and decoding stops at flushed WAL: flushing
        // a logical message flushes everything committed before it.
        await client.query(
          `SELECT pg_logical_emit_message(false, 'test', 'flush', true)`,
        );
        return client.query<{ xid: string; data: string }>(
          `SELECT xid::text AS xid, data FROM pg_logical_slot_get_changes($1, NULL, NULL)
            WHERE data LIKE 'table %'`,
          [slot],
        );
      });
      return rows.map((row) => ({ xid: Number(row.xid), data: row.data }));
    };
  },
);

let alice: TestUser;
test.beforeAll(async ({ db }) => {
  alice = await createUser(db, "Alice");
});

/** xids of the streamed changes that mention `id`. */
const xidsOf = (changes: { xid: number; data: string }[], id: string) =>
  new Set(changes.filter((c) => c.data.includes(id)).map((c) => c.xid));

test("every row a mutation writes streams under the txid it returned, log row included", async ({
  streamedChanges,
}) => {
  const projectId = newId();
  const issueId = newId();
  const commentId = newId();
  const project = await mutate(alice, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Streamed",
    at: tick(),
  });
  const issue = await mutate(alice, "issues.create", {
    id: issueId,
    projectId,
    title: "Streamed issue",
    sortKey: "a",
    at: tick(),
  });
  const comment = await mutate(alice, "comments.create", {
    id: commentId,
    projectId,
    issueId,
    body: "Streamed comment",
    at: tick(),
  });
  const removal = await mutate(alice, "issues.delete", { id: issueId });

  const changes = await streamedChanges();
  expect(xidsOf(changes, projectId)).toContain(project.txid);
  expect([...xidsOf(changes, commentId)].sort()).toEqual(
    [comment.txid, removal.txid].sort(),
  );
  // The delete of the issue and the cascade to its comment share one transaction.
  const deletes = changes.filter((c) => c.data.includes(": DELETE:"));
  expect(new Set(deletes.map((c) => c.xid))).toEqual(new Set([removal.txid]));
  expect(deletes.map((c) => c.data.split(":")[0])).toEqual(
    expect.arrayContaining(["table public.issues", "table public.comments"]),
  );
  // Each mutation's log row is in its own transaction.
  for (const { txid } of [project, issue, comment, removal])
    expect(
      changes.some(
        (c) =>
          c.xid === txid && c.data.startsWith("table public.mutation_log:"),
      ),
    ).toBe(true);
});

test("a retried call streams nothing new", async ({ streamedChanges }) => {
  const envelope = {
    clientId: alice.clientId,
    mutationId: alice.nextMutationId++,
    args: { id: newId(), ownerMemberId: newId(), name: "Once", at: tick() },
  };
  const first = await procedureOf(alice.caller, "projects.create")(envelope);
  await streamedChanges();
  const retry = await procedureOf(alice.caller, "projects.create")(envelope);
  expect(retry.txid).toBe(first.txid);
  expect(await streamedChanges()).toEqual([]);
});
