/**
 * `docs.update` and `docs.load` against PostgreSQL, through the api's procedures: what is
 * accepted merges, what is refused writes nothing and leaves the document loadable, a replay
 * writes once, compaction folds the log into state and projection.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { beforeAll, describe, expect } from "vitest";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";
import { createApiRuntime } from "@repo/api";
import { apiTest } from "@repo/api/testing";
import { DOC_LIMITS, DOC_TEXT_NAME } from "@repo/schema";

import type { CollabProject } from "./support/project";
import { createCollabProject } from "./support/project";

const FIELD: CollabFieldKey = "issues.description";
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");
const bytes = (text: string) => new Uint8Array(Buffer.from(text, "base64"));

let db: Db;
let project: CollabProject;
let databaseUrl: string;
apiTest.beforeAll(async ({ db: fileDb, database }) => {
  db = fileDb;
  databaseUrl = database.url;
  project = await createCollabProject(db);
});

/** A client's document of the issue, loaded through `docs.load`. */
async function clientDoc(user: TestUser, rowId: string): Promise<Y.Doc> {
  const doc = new Y.Doc();
  const loaded = await user.caller.docs.load({
    field: FIELD,
    rowId,
    stateVector: b64(Y.encodeStateVector(doc)),
  });
  Y.applyUpdate(doc, bytes(loaded.update));
  return doc;
}

/** Runs `edit` on `doc` and returns the update it made. */
function edited(doc: Y.Doc, edit: (text: Y.Text) => void): Uint8Array {
  const before = Y.encodeStateVector(doc);
  edit(doc.getText(DOC_TEXT_NAME));
  return Y.encodeStateAsUpdate(doc, before);
}

function send(user: TestUser, rowId: string, update: Uint8Array | string) {
  return user.caller.docs.update({
    clientId: user.clientId,
    mutationId: user.nextMutationId++,
    args: {
      field: FIELD,
      rowId,
      update: typeof update === "string" ? update : b64(update),
      at: new Date(),
    },
  });
}

async function serverText(user: TestUser, rowId: string) {
  return (await clientDoc(user, rowId)).getText(DOC_TEXT_NAME).toJSON();
}

const logRows = async (rowId: string) =>
  (
    await db.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT count(*) AS n FROM doc_updates WHERE row_id = $1::uuid`,
      rowId,
    )
  )[0]?.n;

const descriptionOf = async (rowId: string) =>
  (await db.issue.findUniqueOrThrow({ where: { id: rowId } })).description;

async function expectRefusal(
  call: Promise<unknown>,
  code: TRPCError["code"],
): Promise<void> {
  const error = await call.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(TRPCError);
  expect((error as TRPCError).code).toBe(code);
}

describe("docs.load", () => {
  apiTest(
    "a field's first load is its column's text, seeded once for everyone",
    async () => {
      const rowId = await project.newIssue("Hello");
      const a = await clientDoc(project.member, rowId);
      const b = await clientDoc(project.viewer, rowId);
      expect(a.getText(DOC_TEXT_NAME).toJSON()).toBe("Hello");
      // Both built on the same seed: their edits merge instead of duplicating it.
      const fromA = edited(a, (text) => text.insert(5, "!"));
      Y.applyUpdate(b, fromA);
      expect(b.getText(DOC_TEXT_NAME).toJSON()).toBe("Hello!");
    },
  );

  apiTest("refuses a malformed state vector and unknown rows", async () => {
    const rowId = await project.newIssue("x");
    await expectRefusal(
      project.member.caller.docs.load({
        field: FIELD,
        rowId,
        stateVector: b64(new Uint8Array([200, 200, 200])),
      }),
      "BAD_REQUEST",
    );
    await expectRefusal(
      project.outsider.caller.docs.load({
        field: FIELD,
        rowId,
        stateVector: "AA==",
      }),
      "NOT_FOUND",
    );
  });
});

describe("docs.update", () => {
  apiTest(
    "appends the update and leaves the column to compaction",
    async () => {
      const rowId = await project.newIssue("Hello");
      const doc = await clientDoc(project.member, rowId);
      const { txid } = await send(
        project.member,
        rowId,
        edited(doc, (text) => text.insert(5, " world")),
      );
      expect(txid).toBeGreaterThan(0);
      expect(await logRows(rowId)).toBe(1n);
      expect(await descriptionOf(rowId)).toBe("Hello");
      expect(await serverText(project.viewer, rowId)).toBe("Hello world");
    },
  );

  apiTest("a replayed mutation id writes nothing twice", async () => {
    const rowId = await project.newIssue("");
    const doc = await clientDoc(project.member, rowId);
    const update = edited(doc, (text) => text.insert(0, "once"));
    const envelope = {
      clientId: project.member.clientId,
      mutationId: project.member.nextMutationId++,
      args: { field: FIELD, rowId, update: b64(update), at: new Date() },
    };
    const first = await project.member.caller.docs.update(envelope);
    const again = await project.member.caller.docs.update(envelope);
    expect(again).toEqual(first);
    expect(await logRows(rowId)).toBe(1n);
    expect(await serverText(project.member, rowId)).toBe("once");
  });

  const hostile: [string, (doc: Y.Doc) => Uint8Array | string][] = [
    ["random bytes", () => new Uint8Array(randomBytes(64))],
    [
      "a truncated update",
      (doc) => {
        const update = edited(doc, (text) => text.insert(0, "truncated"));
        return update.subarray(0, update.length - 3);
      },
    ],
    ["not base64", () => "%%%not-base64%%%"],
    [
      "an update over the size limit",
      () => b64(new Uint8Array(DOC_LIMITS.updateBytes + 1)),
    ],
    [
      "a count that would size a huge array",
      () => new Uint8Array([1, 0xff, 0xff, 0xff, 0x7f, 1, 0]),
    ],
    [
      "an update of another document's root type",
      () => {
        const other = new Y.Doc();
        other.getText("body").insert(0, "foreign");
        return Y.encodeStateAsUpdate(other);
      },
    ],
    [
      "an update that edits a map",
      () => {
        const other = new Y.Doc();
        other.getMap(DOC_TEXT_NAME).set("k", "v");
        return Y.encodeStateAsUpdate(other);
      },
    ],
    [
      "an update that builds on edits the server never got",
      (doc) => {
        edited(doc, (text) => text.insert(0, "never sent "));
        return edited(doc, (text) => text.insert(0, "depends on it "));
      },
    ],
  ];
  apiTest.for(hostile)(
    "refuses %s with BAD_REQUEST; nothing written, the document intact",
    async ([, make]) => {
      const rowId = await project.newIssue("Intact");
      const doc = await clientDoc(project.member, rowId);
      await send(
        project.member,
        rowId,
        edited(doc, (text) => text.insert(6, " text")),
      );
      await expectRefusal(
        send(project.member, rowId, make(doc)),
        "BAD_REQUEST",
      );
      expect(await logRows(rowId)).toBe(1n);
      expect(await serverText(project.viewer, rowId)).toBe("Intact text");
      // And still writable: a good update after the bad one is accepted.
      const fresh = await clientDoc(project.member, rowId);
      await send(
        project.member,
        rowId,
        edited(fresh, (text) => text.insert(0, "> ")),
      );
      expect(await serverText(project.viewer, rowId)).toBe("> Intact text");
    },
  );

  apiTest(
    "refuses viewers (FORBIDDEN) and outsiders (NOT_FOUND); nothing written",
    async () => {
      const rowId = await project.newIssue("Mine");
      const doc = await clientDoc(project.viewer, rowId);
      const update = edited(doc, (text) => text.insert(0, "not yours "));
      await expectRefusal(send(project.viewer, rowId, update), "FORBIDDEN");
      await expectRefusal(send(project.outsider, rowId, update), "NOT_FOUND");
      await expectRefusal(
        send(project.member, randomUUID(), update),
        "NOT_FOUND",
      );
      expect(await logRows(rowId)).toBe(0n);
      expect(await serverText(project.member, rowId)).toBe("Mine");
    },
  );

  apiTest(
    "accepts an update building on a row another server process appended",
    async () => {
      const rowId = await project.newIssue("");
      const doc = await clientDoc(project.member, rowId);
      await send(
        project.member,
        rowId,
        edited(doc, (t) => t.insert(0, "a")),
      );
      // Another process's append: straight into the log, past this process's warm copy.
      const other = edited(doc, (t) => t.insert(1, "b"));
      await db.$executeRawUnsafe(
        `INSERT INTO doc_updates (field, row_id, update, client_id)
         VALUES ($1, $2::uuid, $3, $4::uuid)`,
        FIELD,
        rowId,
        other,
        randomUUID(),
      );
      await send(
        project.member,
        rowId,
        edited(doc, (t) => t.insert(2, "c")),
      );
      expect(await serverText(project.viewer, rowId)).toBe("abc");
    },
  );
});

describe("compaction", () => {
  let runtime: ReturnType<typeof createApiRuntime>;
  beforeAll(() => {
    runtime = createApiRuntime({ databaseUrl });
    return () => runtime.close();
  });

  apiTest(
    "folds the log into state and projection; later writes and loads go on",
    async () => {
      const rowId = await project.newIssue("Start");
      const doc = await clientDoc(project.member, rowId);
      for (const word of [" one", " two", " three"])
        await send(
          project.member,
          rowId,
          edited(doc, (t) => t.insert(t.length, word)),
        );
      const result = await runtime.collab.compact(FIELD, rowId);
      expect(result.folded).toBe(3);
      expect(await logRows(rowId)).toBe(0n);
      expect(await descriptionOf(rowId)).toBe("Start one two three");
      // The warm copy was built before the compaction; the client's next edit still applies.
      await send(
        project.member,
        rowId,
        edited(doc, (t) => t.insert(0, "> ")),
      );
      expect(await serverText(project.viewer, rowId)).toBe(
        "> Start one two three",
      );
      expect((await runtime.collab.compact(FIELD, rowId)).folded).toBe(1);
      expect(await descriptionOf(rowId)).toBe("> Start one two three");
      expect((await runtime.collab.compact(FIELD, rowId)).folded).toBe(0);
    },
  );

  apiTest(
    "a server-side edit is a real update: it merges with a client's concurrent edit",
    async () => {
      const rowId = await project.newIssue("middle");
      const doc = await clientDoc(project.member, rowId);
      const concurrent = edited(doc, (t) => t.insert(0, "client "));
      const owner = {
        id: project.owner.id,
        name: "Owner",
        email: "owner@example.com",
      };
      const { txid, text } = await runtime.collab.edit(owner, {
        field: FIELD,
        rowId,
        edit: (t) => t.insert(t.length, " script"),
      });
      expect(txid).toBeGreaterThan(0);
      expect(text).toBe("middle script");
      await send(project.member, rowId, concurrent);
      expect(await serverText(project.viewer, rowId)).toBe(
        "client middle script",
      );
    },
  );

  apiTest(
    "compactions beside concurrent writers: no deadlock, nothing lost",
    async () => {
      const rowId = await project.newIssue("");
      const writers = [project.member, project.owner];
      const docs = await Promise.all(
        writers.map((user) => clientDoc(user, rowId)),
      );
      const writing = { done: false };
      const compactions = (async () => {
        let folded = 0;
        while (!writing.done)
          folded += (await runtime.collab.compact(FIELD, rowId)).folded;
        return folded;
      })();
      await Promise.all(
        writers.map(async (user, w) => {
          const doc = docs[w] ?? new Y.Doc();
          for (let i = 0; i < 15; i++)
            await send(
              user,
              rowId,
              edited(doc, (t) => t.insert(t.length, `${w}`)),
            );
        }),
      );
      writing.done = true;
      const folded = await compactions;
      const rest = (await runtime.collab.compact(FIELD, rowId)).folded;
      expect(folded + rest).toBe(30);
      const text = await serverText(project.viewer, rowId);
      expect([...text].sort().join("")).toBe("0".repeat(15) + "1".repeat(15));
      expect(await descriptionOf(rowId)).toBe(text);
    },
  );
});
