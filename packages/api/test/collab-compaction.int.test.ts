/**
 * Compaction beside writers: a write never waits for a compaction's transaction (which writes
 * the whole state and flushes it), and a compaction that kept its document from the last round
 * builds on the state another process folded since, not on its own copy.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import * as Y from "yjs";

import type { Db, TxQuery } from "@repo/db";
import { createDb } from "@repo/db";
import { DOC_TEXT_NAME } from "@repo/schema";

import type { TestUser } from "./support";
import { compactDoc } from "../src/collab/compaction";
import {
  lockDocForCompaction,
  readStoredDoc,
  writeCompaction,
} from "../src/collab/store";
import { writeDocUpdate } from "../src/collab/write";
import { apiTest, createUser, mutate, newId, tick } from "./support";

const FIELD = "issues.description";
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

let member: TestUser;
let projectId: string;
apiTest.beforeAll(async ({ db }) => {
  member = await createUser(db, "Member");
  projectId = newId();
  await mutate(member, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Compaction",
    at: tick(),
  });
});

/** A client of a new issue's document: its edits go through `docs.update` as `member`. */
async function newDocClient() {
  const rowId = newId();
  await mutate(member, "issues.create", {
    id: rowId,
    projectId,
    title: "Doc",
    sortKey: "a0",
    at: tick(),
  });
  const doc = new Y.Doc();
  const loaded = await member.caller.docs.load({
    field: FIELD,
    rowId,
    stateVector: b64(Y.encodeStateVector(doc)),
  });
  Y.applyUpdate(doc, Buffer.from(loaded.update, "base64"));
  const clientId = randomUUID();
  let mutationId = 1;
  return {
    rowId,
    doc,
    /** The update of typing `text` at the start, not sent. */
    typed: (text: string) => {
      const before = Y.encodeStateVector(doc);
      doc.getText(DOC_TEXT_NAME).insert(0, text);
      return Y.encodeStateAsUpdate(doc, before);
    },
    send: (update: Uint8Array) =>
      member.caller.docs.update({
        clientId,
        mutationId: mutationId++,
        args: { field: FIELD, rowId, update: b64(update), at: tick() },
      }),
  };
}

const queryOf =
  (db: Pick<Db, "$queryRawUnsafe">): TxQuery =>
  (sql, values) =>
    db.$queryRawUnsafe(sql, ...values);

/**
 * Runs `fn` in a transaction of `db` and keeps it open until `release()` (then rolls it back);
 * `opened` resolves with the transaction's backend pid once `fn` is done.
 */
function holdOpen(db: Db, fn: (query: TxQuery) => Promise<unknown>) {
  const released = deferred<undefined>();
  const opened = deferred<number>();
  const done = db
    .$transaction(
      async (tx) => {
        await fn(queryOf(tx));
        const [row] = await tx.$queryRawUnsafe<{ pid: number }[]>(
          "SELECT pg_backend_pid() AS pid",
        );
        opened.resolve(row?.pid ?? -1);
        await released.promise;
        throw new RolledBack();
      },
      { timeout: 15_000 },
    )
    .catch((error: unknown) => {
      if (!(error instanceof RolledBack)) throw error;
    });
  return {
    pid: opened.promise,
    release: () => released.resolve(undefined),
    done,
  };
}

function deferred<T>() {
  let resolve: (value: T) => void = () => undefined;
  const promise = new Promise<T>((settle) => (resolve = settle));
  return { promise, resolve };
}

class RolledBack extends Error {}

/**
 * Settles with "done" when `work` does, or "blocked" as soon as a backend waits for a lock
 * held by the backend `holder`.
 */
async function unlessBlockedBy(
  db: Db,
  holder: number,
  work: Promise<unknown>,
): Promise<"done" | "blocked"> {
  const state = { settled: false };
  const done = work.then(() => {
    state.settled = true;
    return "done" as const;
  });
  const blocked = (async () => {
    while (!state.settled) {
      const [row] = await db.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`,
        holder,
      );
      if ((row?.n ?? 0) > 0) return "blocked" as const;
    }
    return "done" as const;
  })();
  return Promise.race([done, blocked]);
}

apiTest(
  "a write does not wait for a compaction's open transaction, on either path",
  { timeout: 20_000 },
  async ({ db }) => {
    const client = await newDocClient();
    await client.send(client.typed("first "));
    const stored = await readStoredDoc(queryOf(db), FIELD, client.rowId, {
      withState: true,
      fromId: 0n,
    });
    // A compaction's transaction as compactDoc runs it, held open after its writes.
    const compaction = holdOpen(db, async (query) => {
      expect(await lockDocForCompaction(query, FIELD, client.rowId)).toBe(
        stored.foldedThrough,
      );
      await writeCompaction(query, {
        key: FIELD,
        rowId: client.rowId,
        state: stored.state ?? new Uint8Array(),
        text: "a projection being written",
        throughId: 0n,
        count: 0,
      });
    });
    try {
      const holder = await compaction.pid;
      // The group-commit path (docs.update).
      expect(
        await unlessBlockedBy(db, holder, client.send(client.typed("b "))),
      ).toBe("done");
      // The single-call path's statements, in a transaction of their own.
      const alone = db.$transaction((tx) =>
        writeDocUpdate(queryOf(tx), {
          key: FIELD,
          rowId: client.rowId,
          update: client.typed("a "),
          userId: member.id,
          clientId: randomUUID(),
        }),
      );
      expect(await unlessBlockedBy(db, holder, alone)).toBe("done");
    } finally {
      compaction.release();
      await compaction.done;
    }
    const loaded = await member.caller.docs.load({
      field: FIELD,
      rowId: client.rowId,
      stateVector: b64(Y.encodeStateVector(new Y.Doc())),
    });
    expect(loaded.text).toBe("a b first ");
  },
);

apiTest(
  "a compaction that kept its document builds on the state another process folded since",
  async ({ db, database }) => {
    const other = createDb(database.url);
    try {
      const client = await newDocClient();
      await client.send(client.typed("one "));
      expect((await compactDoc(db, FIELD, client.rowId)).folded).toBe(1);
      // Another process (its own client, its own kept documents) folds the next row…
      await client.send(client.typed("two "));
      expect((await compactDoc(other, FIELD, client.rowId)).folded).toBe(1);
      // …so this process's copy lacks it: folding the third row onto that copy would lose it.
      await client.send(client.typed("three "));
      expect((await compactDoc(db, FIELD, client.rowId)).folded).toBe(1);
      const issue = await db.issue.findUniqueOrThrow({
        where: { id: client.rowId },
      });
      expect(issue.description).toBe("three two one ");
      const state = await readStoredDoc(queryOf(db), FIELD, client.rowId, {
        withState: true,
        fromId: 0n,
      });
      const stored = new Y.Doc();
      Y.applyUpdate(stored, state.state ?? new Uint8Array());
      expect(stored.getText(DOC_TEXT_NAME).toJSON()).toBe("three two one ");
      expect(state.updates).toEqual([]);
    } finally {
      await other.$disconnect();
    }
  },
);
