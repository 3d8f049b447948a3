/**
 * Group commit of `docs.update`: calls for one document that arrive together share one
 * transaction, and each keeps the single-call contract — written once with its own log and
 * mutation-log rows, refused alone, a replay writes nothing, and the txid it is answered with
 * is the one its row carries in the shape.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { subscribe, unsubscribe } from "node:diagnostics_channel";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isChangeMessage, ShapeStream } from "@electric-sql/client";
import { TRPCError } from "@trpc/server";
import pg from "pg";
import { describe, expect } from "vitest";
import * as Y from "yjs";

import type { BatchTiming } from "@repo/api";
import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import { batchTimings } from "@repo/api";
import { apiTest } from "@repo/api/testing";
import { LOCK_NAMESPACE } from "@repo/db";
import { DOC_TEXT_NAME } from "@repo/schema";
import { createLogger, startSyncServer } from "@repo/sync-server";
import { waitFor } from "@repo/test-support";

import type { CollabProject } from "./support/project";
import { createCollabProject } from "./support/project";

const FIELD = "issues.description";
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

let db: Db;
let project: CollabProject;
apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  project = await createCollabProject(db);
});

interface Writer {
  user: TestUser;
  clientId: string;
  mutationId: number;
  doc: Y.Doc;
}

/** A client (own id, own `Y.Doc`) of an issue whose document has been written once. */
async function writersOf(rowId: string, users: TestUser[]): Promise<Writer[]> {
  const loaded = await project.member.caller.docs.load({
    field: FIELD,
    rowId,
    stateVector: b64(Y.encodeStateVector(new Y.Doc())),
  });
  return users.map((user) => {
    const doc = new Y.Doc();
    Y.applyUpdate(doc, Buffer.from(loaded.update, "base64"));
    return { user, clientId: randomUUID(), mutationId: 1, doc };
  });
}

function typed(writer: Writer, text: string): Uint8Array {
  const before = Y.encodeStateVector(writer.doc);
  writer.doc.getText(DOC_TEXT_NAME).insert(0, text);
  return Y.encodeStateAsUpdate(writer.doc, before);
}

function send(
  writer: Writer,
  rowId: string,
  update: Uint8Array,
  mutationId = writer.mutationId++,
) {
  return writer.user.caller.docs.update({
    clientId: writer.clientId,
    mutationId,
    args: { field: FIELD, rowId, update: b64(update), at: new Date(0) },
  });
}

/** Log rows of the document: client id and the xid that wrote each. */
const logRows = (rowId: string) =>
  db.$queryRawUnsafe<{ id: string; client_id: string; xid: string }[]>(
    `SELECT id::text AS id, client_id::text AS client_id, xmin::text AS xid
       FROM doc_updates WHERE row_id = $1::uuid ORDER BY id`,
    rowId,
  );

const mutationLog = (clientIds: string[]) =>
  db.$queryRawUnsafe<{ client_id: string; outcome: string; txid: string }[]>(
    `SELECT client_id::text AS client_id, outcome, coalesce(txid::text, '') AS txid
       FROM mutation_log WHERE client_id = ANY($1::uuid[])`,
    clientIds,
  );

async function serverText(rowId: string): Promise<string> {
  const loaded = await project.member.caller.docs.load({
    field: FIELD,
    rowId,
    stateVector: b64(Y.encodeStateVector(new Y.Doc())),
  });
  const doc = new Y.Doc();
  Y.applyUpdate(doc, Buffer.from(loaded.update, "base64"));
  return doc.getText(DOC_TEXT_NAME).toJSON();
}

const codeOf = (error: unknown) =>
  error instanceof TRPCError ? error.code : String(error);

describe("docs.update group commit", () => {
  apiTest(
    "concurrent writers of one document share a transaction and are each written once",
    async () => {
      const rowId = await project.newIssue("");
      const writers = await writersOf(rowId, [
        project.member,
        project.member,
        project.owner,
        project.owner,
        project.member,
        project.owner,
      ]);
      const results = await Promise.all(
        writers.map((writer, i) => send(writer, rowId, typed(writer, `${i}`))),
      );
      const rows = await logRows(rowId);
      // Each call once, with its own row; coalesced: fewer transactions than calls.
      expect(rows.map((row) => row.client_id).sort()).toEqual(
        writers.map((writer) => writer.clientId).sort(),
      );
      expect(new Set(results.map((result) => result.txid)).size).toBe(1);
      for (const result of results) {
        const row = rows.find((candidate) => candidate.id === result.data.id);
        // The txid answered is the one that wrote the row (what shapes report).
        expect(row?.xid).toBe(String(result.txid));
      }
      const logged = await mutationLog(writers.map((w) => w.clientId));
      expect(logged).toHaveLength(writers.length);
      expect(logged.every((row) => row.outcome === "ok")).toBe(true);
      expect([...(await serverText(rowId))].sort().join("")).toBe("012345");
    },
  );

  apiTest(
    "a bad call is refused alone: the others of its batch are written",
    async () => {
      const rowId = await project.newIssue("");
      const [good1, bad, reader, good2] = await writersOf(rowId, [
        project.member,
        project.member,
        project.viewer,
        project.owner,
      ]);
      if (!good1 || !bad || !reader || !good2) throw new Error("writers");
      // Valid bytes that build on an edit the server never got: only applying can tell.
      typed(bad, "lost");
      const dependent = typed(bad, "x");
      const outcomes = await Promise.allSettled([
        send(good1, rowId, typed(good1, "a")),
        send(bad, rowId, dependent),
        send(reader, rowId, typed(reader, "r")),
        send(good2, rowId, typed(good2, "b")),
      ]);
      const [first, refused, forbidden, second] = outcomes;
      // Written together, in the one transaction the refused calls were taken out of.
      expect([first.status, second.status]).toEqual(["fulfilled", "fulfilled"]);
      expect(first.status === "fulfilled" && first.value.txid).toBe(
        second.status === "fulfilled" && second.value.txid,
      );
      expect(refused.status === "rejected" && codeOf(refused.reason)).toBe(
        "BAD_REQUEST",
      );
      expect(forbidden.status === "rejected" && codeOf(forbidden.reason)).toBe(
        "FORBIDDEN",
      );
      const rows = await logRows(rowId);
      expect(rows.map((row) => row.client_id).sort()).toEqual(
        [good1.clientId, good2.clientId].sort(),
      );
      expect([...(await serverText(rowId))].sort().join("")).toBe("ab");
      // The refusals are recorded: a retry gets the same answer and writes nothing.
      await expect(send(bad, rowId, dependent, 1)).rejects.toMatchObject({
        code: "BAD_REQUEST",
      });
      expect(await logRows(rowId)).toHaveLength(2);
    },
  );

  apiTest(
    "a malformed call sent together with its client's earlier call is refused after it, in order",
    async ({ database }) => {
      const rowId = await project.newIssue("");
      const [writer, other] = await writersOf(rowId, [
        project.member,
        project.owner,
      ]);
      if (!writer || !other) throw new Error("writers");
      // The document's lane busy: another client's batch waits for the document's lock.
      const holder = new pg.Client(database.url);
      await holder.connect();
      try {
        await holder.query("BEGIN");
        await holder.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
          LOCK_NAMESPACE,
          `${FIELD}:${rowId}`,
        ]);
        const busy = send(other, rowId, typed(other, "o"));
        await waitFor(async () => (await docLockWaiters(holder)) >= 1);
        // One client's calls 1 (valid) and 2 (garbage) in one turn, as a batched HTTP request
        // brings them: call 2's refusal must not be recorded before call 1 (which would then
        // be refused as out of order, its edit lost).
        const update = typed(writer, "kept");
        const outcomes = Promise.allSettled([
          send(writer, rowId, new Uint8Array([0, 1, 2]), 2),
          send(writer, rowId, update, 1),
        ]);
        // Queued behind the lock in the order the race would write them, if it can happen.
        await waitFor(async () => (await docLockWaiters(holder)) >= 2, {
          timeoutMs: 1_000,
        }).catch(() => undefined);
        await holder.query("COMMIT");
        await busy;
        const [garbage, valid] = await outcomes;
        expect(valid.status).toBe("fulfilled");
        expect(garbage.status === "rejected" && codeOf(garbage.reason)).toBe(
          "BAD_REQUEST",
        );
        expect([...(await serverText(rowId))].sort().join("")).toBe(
          [..."kepto"].sort().join(""),
        );
        expect(await logRows(rowId)).toHaveLength(2);
      } finally {
        await holder.end();
      }
    },
  );

  apiTest(
    "a replay of a coalesced call writes nothing and answers as the first time",
    async () => {
      const rowId = await project.newIssue("");
      const writers = await writersOf(rowId, [
        project.member,
        project.owner,
        project.member,
      ]);
      const updates = writers.map((writer, i) => typed(writer, `${i}`));
      const first = await Promise.all(
        writers.map((writer, i) => send(writer, rowId, updates[i] ?? EMPTY, 1)),
      );
      // Replayed later, and a replay racing the original in one batch.
      const again = await Promise.all(
        writers.map((writer, i) => send(writer, rowId, updates[i] ?? EMPTY, 1)),
      );
      expect(new Set(first.map((result) => result.txid)).size).toBe(1);
      expect(again).toEqual(first);
      const late = writersOf(rowId, [project.member]);
      const [racer] = await late;
      if (!racer) throw new Error("writer");
      const update = typed(racer, "z");
      const raced = await Promise.all([
        send(racer, rowId, update, 1),
        send(racer, rowId, update, 1),
      ]);
      expect(raced[1]).toEqual(raced[0]);
      expect(await logRows(rowId)).toHaveLength(writers.length + 1);
    },
  );

  apiTest(
    "every coalesced call's txid arrives in the log's shape with its row",
    async ({ database }) => {
      const rowId = await project.newIssue("");
      const writers = await writersOf(rowId, [
        project.member,
        project.owner,
        project.member,
        project.owner,
      ]);
      const secret = randomBytes(16).toString("hex");
      const storageDir = await mkdtemp(join(tmpdir(), "group-commit-"));
      const sync = await startSyncServer({
        databaseUrl: database.url,
        port: 0,
        secret,
        slotName: `slot_gc_${database.name}`,
        publicationName: `pub_gc_${database.name}`,
        storageDir,
        logger: createLogger("silent"),
      });
      const aborter = new AbortController();
      try {
        const seen = new Map<string, number[]>();
        const stream = new ShapeStream<{ id: string }>({
          url: `${sync.url}/v1/shape`,
          params: {
            secret,
            table: "doc_updates",
            where: "row_id = $1",
            params: [rowId],
            columns: ["id"],
          },
          signal: aborter.signal,
        });
        const upToDate = new Promise<void>((resolve) =>
          stream.subscribe((messages) => {
            for (const message of messages)
              if (isChangeMessage(message))
                seen.set(String(message.value.id), message.headers.txids ?? []);
            if (stream.isUpToDate) resolve();
          }),
        );
        await upToDate;
        const results = await Promise.all(
          writers.map((writer, i) =>
            send(writer, rowId, typed(writer, `${i}`)),
          ),
        );
        await expect
          .poll(() => results.every((r) => seen.has(r.data.id)), {
            timeout: 10_000,
          })
          .toBe(true);
        for (const result of results)
          expect(seen.get(result.data.id)).toContain(result.txid);
      } finally {
        aborter.abort();
        await sync.stopAndDropSlot();
        await rm(storageDir, { recursive: true, force: true });
      }
    },
  );
});

describe("docs.update group commit on a warm document", () => {
  /** A document written once (its copy warm), and the batches of what `run` sends after. */
  async function warmBatches<T>(
    rowId: string,
    warmer: Writer,
    run: () => Promise<T>,
  ): Promise<{ result: T; batches: BatchTiming[] }> {
    await send(warmer, rowId, typed(warmer, "w"));
    const batches: BatchTiming[] = [];
    const onBatch = (message: unknown) => batches.push(message as BatchTiming);
    subscribe(batchTimings.name, onBatch);
    try {
      return { result: await run(), batches };
    } finally {
      unsubscribe(batchTimings.name, onBatch);
    }
  }

  apiTest(
    "writes a batch in one round trip, each call answered, logged and replayed as alone",
    async () => {
      const rowId = await project.newIssue("");
      const [warmer, ...writers] = await writersOf(rowId, [
        project.member,
        project.member,
        project.owner,
        project.member,
      ]);
      if (!warmer) throw new Error("writers");
      const updates = writers.map((writer, i) => typed(writer, `${i}`));
      const { result, batches } = await warmBatches(rowId, warmer, () =>
        Promise.all(
          writers.map((writer, i) => send(writer, rowId, updates[i] ?? EMPTY)),
        ),
      );
      expect(batches.length).toBeGreaterThan(0);
      expect(batches.every((batch) => batch.oneTrip && !batch.rebuilt)).toBe(
        true,
      );
      const rows = await logRows(rowId);
      for (const answer of result)
        expect(rows.find((row) => row.id === answer.data.id)?.xid).toBe(
          String(answer.txid),
        );
      // Each call once, after the warming row; within a batch, ids in the order of its calls.
      expect(rows[0]?.client_id).toBe(warmer.clientId);
      expect(
        rows
          .slice(1)
          .map((row) => row.client_id)
          .sort(),
      ).toEqual(writers.map((writer) => writer.clientId).sort());
      const idOf = new Map(
        writers.map((writer, i) => [
          writer.clientId,
          BigInt(result[i]?.data.id ?? 0),
        ]),
      );
      for (const batch of batches) {
        const ids = batch.calls.map((call) => idOf.get(call.clientId) ?? 0n);
        expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));
      }
      // The mutation log's data is what the single path records: a replay answers the same.
      const replayed = await Promise.all(
        writers.map((writer, i) =>
          send(writer, rowId, updates[i] ?? EMPTY, writer.mutationId - 1),
        ),
      );
      expect(replayed).toEqual(result);
      expect(await logRows(rowId)).toHaveLength(writers.length + 1);
      expect([...(await serverText(rowId))].sort().join("")).toBe("012w");
    },
  );

  apiTest(
    "refuses the call of a user who may not edit alone: the others of its batch are written",
    async () => {
      const rowId = await project.newIssue("");
      const [warmer, good1, reader, good2] = await writersOf(rowId, [
        project.member,
        project.member,
        project.viewer,
        project.owner,
      ]);
      if (!warmer || !good1 || !reader || !good2) throw new Error("writers");
      const { result: outcomes } = await warmBatches(rowId, warmer, () =>
        Promise.allSettled([
          send(good1, rowId, typed(good1, "a")),
          send(reader, rowId, typed(reader, "r")),
          send(good2, rowId, typed(good2, "b")),
        ]),
      );
      const [first, forbidden, second] = outcomes;
      expect(forbidden.status === "rejected" && codeOf(forbidden.reason)).toBe(
        "FORBIDDEN",
      );
      expect(first.status === "fulfilled" && first.value.txid).toBe(
        second.status === "fulfilled" && second.value.txid,
      );
      const rows = (await logRows(rowId)).map((row) => row.client_id);
      expect(rows[0]).toBe(warmer.clientId);
      expect(rows.slice(1).sort()).toEqual(
        [good1.clientId, good2.clientId].sort(),
      );
      expect([...(await serverText(rowId))].sort().join("")).toBe("abw");
    },
  );

  apiTest(
    "catches its copy up with what another process appended, in the same round trip",
    async () => {
      const rowId = await project.newIssue("");
      const [warmer, writer, elsewhere] = await writersOf(rowId, [
        project.member,
        project.owner,
        project.member,
      ]);
      if (!warmer || !writer || !elsewhere) throw new Error("writers");
      const { batches } = await warmBatches(rowId, warmer, async () => {
        // Another process' row, appended behind this one's back.
        await db.$executeRawUnsafe(
          `INSERT INTO doc_updates (field, row_id, update, client_id)
           VALUES ($1, $2::uuid, $3, $4::uuid)`,
          FIELD,
          rowId,
          Buffer.from(typed(elsewhere, "e")),
          elsewhere.clientId,
        );
        await send(writer, rowId, typed(writer, "1"));
        // Builds on the other process' row: the copy must have it to accept this call.
        Y.applyUpdate(writer.doc, Y.encodeStateAsUpdate(elsewhere.doc));
        await send(writer, rowId, typed(writer, "2"));
      });
      expect(batches.map((batch) => [batch.oneTrip, batch.rebuilt])).toEqual([
        [true, false],
        [true, false],
      ]);
      expect([...(await serverText(rowId))].sort().join("")).toBe("12ew");
    },
  );
});

const EMPTY = new Uint8Array([0, 0]);

/** Sessions of this database waiting for one of our advisory locks. */
async function docLockWaiters(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ waiting: number }>(
    `SELECT count(*)::int AS waiting FROM pg_locks
      WHERE locktype = 'advisory' AND classid = $1 AND NOT granted
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCK_NAMESPACE],
  );
  return rows[0]?.waiting ?? 0;
}
