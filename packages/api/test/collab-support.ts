/**
 * Helpers of the api's collaborative-field tests: a member's project, a client of a new issue's
 * document, and a transaction held open at a chosen point.
 */
import { randomUUID } from "node:crypto";
import * as Y from "yjs";

import type { Db, TxQuery } from "@repo/db";
import { DOC_TEXT_NAME } from "@repo/schema";

import type { TestUser } from "./support";
import { createUser, mutate, newId, tick } from "./support";

export const FIELD = "issues.description";
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64");

export const queryOf =
  (db: Pick<Db, "$queryRawUnsafe">): TxQuery =>
  (sql, values) =>
    db.$queryRawUnsafe(sql, ...values);

/** A member and their project, where `newDocClient` makes issues. */
export async function createDocProject(db: Db) {
  const member = await createUser(db, "Member");
  const projectId = newId();
  await mutate(member, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Collab",
    at: tick(),
  });
  return { member, projectId };
}

/** A client (own id and `Y.Doc`) of a new issue's document, writing as `member`. */
export async function newDocClient(project: {
  member: TestUser;
  projectId: string;
}) {
  const { member, projectId } = project;
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
  let nextMutationId = 1;
  /** `docs.update` with these base64 bytes, as this client's next call (through `caller`). */
  const call = (update: string, caller = member.caller) =>
    caller.docs.update({
      clientId,
      mutationId: nextMutationId++,
      args: { field: FIELD, rowId, update, at: tick() },
    });
  return {
    rowId,
    clientId,
    /** The update of typing `text` at the start, not sent. */
    typed: (text: string) => {
      const before = Y.encodeStateVector(doc);
      doc.getText(DOC_TEXT_NAME).insert(0, text);
      return Y.encodeStateAsUpdate(doc, before);
    },
    call,
    send: (update: Uint8Array) => call(b64(update)),
  };
}

/**
 * Runs `fn` in a transaction of `db` and keeps it open until `release()`, then rolls it back;
 * `pid` resolves with the transaction's backend pid once `fn` is done.
 */
export function holdOpen(db: Db, fn: (query: TxQuery) => Promise<unknown>) {
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
