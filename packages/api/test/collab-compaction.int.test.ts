/**
 * Compaction beside writers: a write never waits for a compaction's transaction (which writes
 * the whole state and flushes it), and a compaction that kept its document from the last round
 * builds on the state another process folded since, not on its own copy.
 */
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import * as Y from "yjs";

import type { Db } from "@repo/db";
import { createDb } from "@repo/db";
import { DOC_TEXT_NAME } from "@repo/schema";

import { compactDoc } from "../src/collab/compaction";
import {
  lockDocForCompaction,
  readStoredDoc,
  writeCompaction,
} from "../src/collab/store";
import { writeDocUpdate } from "../src/collab/write";
import {
  b64,
  createDocProject,
  FIELD,
  holdOpen,
  newDocClient as newClientOf,
  queryOf,
} from "./collab-support";
import { apiTest } from "./support";

let project: Awaited<ReturnType<typeof createDocProject>>;
apiTest.beforeAll(async ({ db }) => {
  project = await createDocProject(db);
});
const newDocClient = () => newClientOf(project);

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
          userId: project.member.id,
          clientId: randomUUID(),
          origin: null,
        }),
      );
      expect(await unlessBlockedBy(db, holder, alone)).toBe("done");
    } finally {
      compaction.release();
      await compaction.done;
    }
    const loaded = await project.member.caller.docs.load({
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
