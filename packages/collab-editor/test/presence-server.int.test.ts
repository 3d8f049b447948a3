/**
 * The server side of presence: who may publish it (like editing the document), what a row may
 * hold, leaving, and the cleanup of rows whose lease ran out (crashed tabs).
 */
import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";

import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import type { UpdatePresenceInput } from "@repo/schema";
import { createApiRuntime } from "@repo/api";
import { apiTest, createUser, mutate, newId, tick } from "@repo/api/testing";
import { PRESENCE, presenceUser } from "@repo/schema";
import { waitFor } from "@repo/test-support";

let db: Db;
let databaseUrl: string;
let writer: TestUser, viewer: TestUser, outsider: TestUser;
let issueId: string;

apiTest.beforeAll(async ({ db: fileDb, database }) => {
  db = fileDb;
  databaseUrl = database.url;
  writer = await createUser(db, "Writer");
  viewer = await createUser(db, "Viewer");
  outsider = await createUser(db, "Outsider");
  const projectId = newId();
  await mutate(writer, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "P",
    at: tick(),
  });
  await mutate(writer, "members.add", {
    id: newId(),
    projectId,
    userId: viewer.id,
    role: "viewer",
    at: tick(),
  });
  issueId = newId();
  await mutate(writer, "issues.create", {
    id: issueId,
    projectId,
    title: "Issue",
    sortKey: "a0",
    at: tick(),
  });
});

const cursor = {
  anchor: { type: null, tname: null, item: { client: 7, clock: 3 }, assoc: 0 },
  head: { type: null, tname: null, item: { client: 7, clock: 5 }, assoc: 0 },
};

/**
 * One editor tab of `user`, as the presence client is: a client of its own (the presence row's
 * key), its calls numbered from 1.
 */
function tabOf(user: TestUser, presenceId: string = randomUUID()) {
  let mutationId = 1;
  return {
    presenceId,
    publish: (args: Partial<UpdatePresenceInput> = {}) =>
      user.caller.presence.update({
        clientId: presenceId,
        mutationId: mutationId++,
        args: {
          field: "issues.description",
          rowId: issueId,
          state: { awarenessId: 7, cursor },
          ...args,
        },
      }),
    leave: () =>
      user.caller.presence.leave({
        clientId: presenceId,
        mutationId: mutationId++,
        args: {},
      }),
  };
}

async function presenceRows() {
  return db.presence.findMany({ orderBy: { updatedAt: "asc" } });
}

async function refusal(call: Promise<unknown>): Promise<TRPCError> {
  const error = await call.then(
    () => new Error("expected the call to be refused"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

describe("presence.update", () => {
  it("a writer's row holds its cursor, the name of its session (not one it chose) and a lease", async () => {
    const tab = tabOf(writer);
    const { data } = await tab.publish();
    const row = await db.presence.findUniqueOrThrow({
      where: { clientId: tab.presenceId },
    });
    expect(row.userId).toBe(writer.id);
    expect(row.state).toEqual({
      awarenessId: 7,
      cursor,
      user: presenceUser({ id: writer.id, name: "Writer" }),
    });
    expect(row.expiresAt.getTime() - row.updatedAt.getTime()).toBe(
      PRESENCE.leaseMs,
    );
    expect(data.expiresAt).toEqual(row.expiresAt);
    await tab.leave();
  });

  it("a heartbeat renews the lease of the same row", async () => {
    const tab = tabOf(writer);
    await tab.publish();
    const almostOver = new Date(Date.now() + 1_000);
    await db.presence.update({
      where: { clientId: tab.presenceId },
      data: { expiresAt: almostOver },
    });
    const { data } = await tab.publish({
      state: { awarenessId: 7, cursor: null },
    });
    expect(data.expiresAt.getTime()).toBeGreaterThan(
      almostOver.getTime() + PRESENCE.leaseMs / 2,
    );
    const rows = await presenceRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      expiresAt: data.expiresAt,
      state: { cursor: null },
    });
    await tab.leave();
  });

  it("refuses a non-member (NOT_FOUND) and a viewer (FORBIDDEN), writing nothing", async () => {
    expect((await refusal(tabOf(outsider).publish())).code).toBe("NOT_FOUND");
    expect((await refusal(tabOf(viewer).publish())).code).toBe("FORBIDDEN");
    const missingRow = await refusal(
      tabOf(writer).publish({ rowId: randomUUID() }),
    );
    expect(missingRow.code).toBe("NOT_FOUND");
    expect(await presenceRows()).toEqual([]);
  });

  it("does not let another user take over a tab's client id", async () => {
    const tab = tabOf(writer);
    await tab.publish();
    const other = await memberNamed("Other");
    const error = await refusal(
      tabOf(other, tab.presenceId).publish({
        state: { awarenessId: 9, cursor: null },
      }),
    );
    expect(error.code).toBe("FORBIDDEN");
    const [row] = await presenceRows();
    expect(row).toMatchObject({ userId: writer.id, state: { awarenessId: 7 } });
    await tab.leave();
  });

  it("refuses states that are not a cursor (extra fields, long names, unknown fields) with BAD_REQUEST", async () => {
    const bad: unknown[] = [
      { awarenessId: 7, cursor, user: { name: "Mallory" } },
      { awarenessId: 7, cursor, blob: "x".repeat(100_000) },
      {
        awarenessId: 7,
        cursor: { ...cursor, head: { ...cursor.head, tname: "t".repeat(65) } },
      },
      {
        awarenessId: 7,
        cursor: { ...cursor, anchor: { ...cursor.anchor, tname: "a\u0000b" } },
      },
      { awarenessId: -1, cursor: null },
      { awarenessId: 7, cursor: { anchor: cursor.anchor } },
    ];
    for (const state of bad) {
      const error = await refusal(
        tabOf(writer).publish({ state: state as UpdatePresenceInput["state"] }),
      );
      expect(error.code).toBe("BAD_REQUEST");
    }
    const unknownField = await refusal(
      tabOf(writer).publish({
        field: "issues.title" as UpdatePresenceInput["field"],
      }),
    );
    expect(unknownField.code).toBe("BAD_REQUEST");
    expect(await presenceRows()).toEqual([]);
  });
});

describe("presence.leave", () => {
  it("deletes the tab's row; leaving again deletes nothing and succeeds", async () => {
    const tab = tabOf(writer);
    await tab.publish();
    await tabOf(writer).leave();
    expect(await presenceRows()).toHaveLength(1);
    expect((await tab.leave()).data).toEqual({ left: true });
    expect((await tab.leave()).data).toEqual({ left: false });
    expect(await presenceRows()).toEqual([]);
  });
});

describe("presence cleanup", () => {
  it("deletes a crashed tab's row once its lease ran out, with its presence calls in the mutation log; live tabs keep their row and latest call", async () => {
    const crashed = tabOf(await memberNamed("Crashed"));
    const live = tabOf(writer);
    await crashed.publish();
    await crashed.publish();
    await live.publish();
    await live.publish();
    // The crashed tab stopped renewing a lease ago; its calls are as old.
    const longAgo = new Date(Date.now() - PRESENCE.leaseMs - 1_000);
    await db.presence.update({
      where: { clientId: crashed.presenceId },
      data: { expiresAt: longAgo },
    });
    await db.mutationLog.updateMany({
      where: { name: { startsWith: "presence." } },
      data: { createdAt: longAgo },
    });

    const runtime = createApiRuntime({ databaseUrl });
    const cleaned: number[] = [];
    try {
      runtime.startBackgroundJobs({
        presence: { intervalMs: 20, onCleaned: (n) => cleaned.push(n) },
      });
      await waitFor(() => cleaned.length >= 2);
    } finally {
      await runtime.close();
    }
    expect(cleaned[0]).toBe(1);
    expect((await presenceRows()).map((row) => row.clientId)).toEqual([
      live.presenceId,
    ]);
    const logged = await db.mutationLog.findMany({
      where: { name: { startsWith: "presence." } },
      select: { clientId: true, mutationId: true },
    });
    expect(logged).toEqual([{ clientId: live.presenceId, mutationId: 2 }]);
    await live.leave();
  });
});

/** A new user who is a member (writer) of the issue's project. */
async function memberNamed(name: string): Promise<TestUser> {
  const user = await createUser(db, name);
  const { projectId } = await db.issue.findUniqueOrThrow({
    where: { id: issueId },
  });
  await db.projectMember.create({
    data: { projectId, userId: user.id, role: "member" },
  });
  return user;
}
