/**
 * The mutation procedures' contract beyond row equality: authentication and authorisation
 * (nothing written when refused), idempotent retries, ordering, and the documented error codes.
 */
import { TRPCError } from "@trpc/server";
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import { mutations } from "@repo/mutations";
import { LIMITS } from "@repo/schema";

import type { AppErrorData } from "../src";
import type { TestUser } from "./support";
/** What the client receives in `error.data` (the errorFormatter's output). */ import {
  appRouter,
  createBearerSessionResolver,
  mutationProcedure,
} from "../src";
import {
  createCallerFactory,
  createTRPCContext,
  createTRPCRouter,
  publicProcedure,
} from "../src/trpc";
import {
  apiTest,
  callerFor,
  createUser,
  mutate,
  newId,
  rowCounts,
  tick,
} from "./support";

let db: Db;
let owner: TestUser;
let member: TestUser;
let viewer: TestUser;
let outsider: TestUser;
let projectId: string;
let issueId: string;
let memberCommentId: string;
let memberMembershipId: string;
let ownerMembershipId: string;

apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  owner = await createUser(db, "Owner");
  member = await createUser(db, "Member");
  viewer = await createUser(db, "Viewer");
  outsider = await createUser(db, "Outsider");
  projectId = newId();
  ownerMembershipId = newId();
  await mutate(owner, "projects.create", {
    id: projectId,
    ownerMemberId: ownerMembershipId,
    name: "P",
    at: tick(),
  });
  memberMembershipId = newId();
  await mutate(owner, "members.add", {
    id: memberMembershipId,
    projectId,
    userId: member.id,
    role: "member",
    at: tick(),
  });
  await mutate(owner, "members.add", {
    id: newId(),
    projectId,
    userId: viewer.id,
    role: "viewer",
    at: tick(),
  });
  issueId = newId();
  await mutate(member, "issues.create", {
    id: issueId,
    projectId,
    title: "Issue",
    sortKey: "a0",
    at: tick(),
  });
  memberCommentId = newId();
  await mutate(member, "comments.create", {
    id: memberCommentId,
    projectId,
    issueId,
    body: "mine",
    at: tick(),
  });
});

/** The TRPCError a call fails with, and its `AppErrorData` as the errorFormatter shapes it. */
async function failure(call: Promise<unknown>) {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

function shapeOf(error: TRPCError) {
  const formatter = appRouter._def._config.errorFormatter;
  return formatter({
    error,
    type: "mutation",
    path: undefined,
    input: undefined,
    ctx: undefined,
    // As tRPC shapes errors in development: with the stack.
    shape: {
      message: error.message,
      code: -32600,
      data: { code: error.code, httpStatus: 400, stack: error.stack },
    },
  }) as { message: string; data: AppErrorData & { code: string } };
}

async function expectRefused(
  call: () => Promise<unknown>,
  code: TRPCError["code"],
  reason: AppErrorData["reason"],
) {
  const before = await rowCounts(db);
  const error = await failure(call());
  expect(error.code).toBe(code);
  expect(shapeOf(error).data.reason).toBe(reason);
  expect(await rowCounts(db)).toEqual(before);
  return error;
}

describe("authentication", () => {
  it("refuses calls without a session, or with an unknown or expired token", async () => {
    const expired = "expired-token";
    await db.session.create({
      data: {
        token: expired,
        userId: member.id,
        expiresAt: new Date(Date.now() - 1000),
      },
    });
    const cases: Record<string, string>[] = [
      {},
      { authorization: "Bearer not-a-session" },
      { authorization: `Bearer ${expired}` },
      { authorization: `Basic ${member.token}` },
    ];
    for (const headers of cases) {
      const caller = await callerFor(db, headers);
      await expectRefused(
        () =>
          caller.issues.create({
            clientId: newId(),
            mutationId: 1,
            args: {
              id: newId(),
              projectId,
              title: "x",
              sortKey: "a",
              at: tick(),
            },
          }),
        "UNAUTHORIZED",
        "unauthenticated",
      );
    }
  });

  it("caches found sessions for cacheMs: a deleted one works until forgotten, 0 disables", async () => {
    const token = `cached-${newId()}`;
    await db.session.create({
      data: {
        token,
        userId: member.id,
        expiresAt: new Date(Date.now() + 60_000),
      },
    });
    const headers = new Headers({ authorization: `Bearer ${token}` });
    const cached = createBearerSessionResolver(db, { cacheMs: 60_000 });
    const uncached = createBearerSessionResolver(db, { cacheMs: 0 });
    expect((await cached(headers))?.id).toBe(member.id);
    expect((await uncached(headers))?.id).toBe(member.id);
    await db.session.delete({ where: { token } });
    // The documented revocation delay: this process still knows the session...
    expect((await cached(headers))?.id).toBe(member.id);
    // ...until it is told, and a resolver without a cache sees the deletion at once.
    cached.forget(token);
    expect(await cached(headers)).toBeNull();
    expect(await uncached(headers)).toBeNull();
  });

  it("accepts the scheme in any case", async () => {
    const caller = await callerFor(db, {
      authorization: `bearer ${member.token}`,
    });
    const result = await caller.issues.update({
      clientId: newId(),
      mutationId: 1,
      args: { id: issueId, priority: "low", at: tick() },
    });
    expect(result.data.priority).toBe("low");
  });
});

describe("authorisation: refused calls write nothing", () => {
  it("viewers cannot write issues or comments", async () => {
    await expectRefused(
      () =>
        mutate(viewer, "issues.create", {
          id: newId(),
          projectId,
          title: "x",
          sortKey: "a",
          at: tick(),
        }),
      "FORBIDDEN",
      "forbidden",
    );
    await expectRefused(
      () =>
        mutate(viewer, "comments.create", {
          id: newId(),
          projectId,
          issueId,
          body: "x",
          at: tick(),
        }),
      "FORBIDDEN",
      "forbidden",
    );
  });

  it("non-members do not even see the project (NOT_FOUND)", async () => {
    await expectRefused(
      () =>
        mutate(outsider, "issues.update", {
          id: issueId,
          title: "x",
          at: tick(),
        }),
      "NOT_FOUND",
      "not_found",
    );
    await expectRefused(
      () =>
        mutate(outsider, "projects.update", {
          id: projectId,
          name: "x",
          at: tick(),
        }),
      "NOT_FOUND",
      "not_found",
    );
    await expectRefused(
      () => mutate(outsider, "issues.delete", { id: issueId }),
      "NOT_FOUND",
      "not_found",
    );
  });

  it("members cannot manage the project or its members", async () => {
    await expectRefused(
      () =>
        mutate(member, "members.add", {
          id: newId(),
          projectId,
          userId: outsider.id,
          role: "admin",
          at: tick(),
        }),
      "FORBIDDEN",
      "forbidden",
    );
    await expectRefused(
      () =>
        mutate(member, "projects.archive", {
          id: projectId,
          archived: true,
          at: tick(),
        }),
      "FORBIDDEN",
      "forbidden",
    );
  });

  it("only the author edits a comment; the owner's role cannot change", async () => {
    await expectRefused(
      () =>
        mutate(owner, "comments.update", {
          id: memberCommentId,
          body: "x",
          at: tick(),
        }),
      "FORBIDDEN",
      "forbidden",
    );
    await expectRefused(
      () =>
        mutate(owner, "members.changeRole", {
          id: ownerMembershipId,
          role: "admin",
          at: tick(),
        }),
      "CONFLICT",
      "invalid_state",
    );
    await expectRefused(
      () => mutate(owner, "members.remove", { id: ownerMembershipId }),
      "CONFLICT",
      "invalid_state",
    );
  });
});

describe("bad input: BAD_REQUEST with field-level messages, nothing written", () => {
  it("reports each invalid field under its name", async () => {
    const error = await expectRefused(
      () =>
        mutate(member, "issues.create", {
          id: "nope",
          projectId,
          title: "x".repeat(LIMITS.issueTitle + 1),
          status: "closed",
          sortKey: "has space",
          at: "2026-01-01",
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    const { zodError } = shapeOf(error).data;
    expect(Object.keys(zodError?.fieldErrors ?? {}).sort()).toEqual([
      "at",
      "id",
      "sortKey",
      "status",
      "title",
    ]);
  });

  it("rejects unknown keys, a bad envelope and oversized text", async () => {
    const unknownKey = await expectRefused(
      () =>
        mutate(member, "comments.update", {
          id: memberCommentId,
          body: "x",
          at: tick(),
          authorId: owner.id,
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    expect(shapeOf(unknownKey).data.zodError?.formErrors).toEqual([
      expect.stringContaining("authorId"),
    ]);

    const badEnvelope = await expectRefused(
      () =>
        member.caller.comments.update({
          clientId: "client-1",
          mutationId: 0,
          args: { id: memberCommentId, body: "x", at: tick() },
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    expect(
      Object.keys(shapeOf(badEnvelope).data.zodError?.fieldErrors ?? {}).sort(),
    ).toEqual(["clientId", "mutationId"]);

    const huge = await expectRefused(
      () =>
        mutate(member, "comments.update", {
          id: memberCommentId,
          body: "x".repeat(LIMITS.commentBody + 1),
          at: tick(),
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    expect(shapeOf(huge).data.zodError?.fieldErrors.body).toHaveLength(1);
  });

  it("rejects text Postgres cannot store (NUL) as a field error, not a database error", async () => {
    const error = await expectRefused(
      () =>
        mutate(member, "issues.update", {
          id: issueId,
          title: "nul \u0000 inside",
          at: tick(),
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    expect(shapeOf(error).data.zodError?.fieldErrors).toEqual({
      title: ["must not contain NUL characters"],
    });
  });

  it("rejects an assignee who is not a member, as a field error", async () => {
    const error = await expectRefused(
      () =>
        mutate(member, "issues.update", {
          id: issueId,
          assigneeId: outsider.id,
          at: tick(),
        }),
      "BAD_REQUEST",
      "invalid_input",
    );
    expect(shapeOf(error).data.zodError?.fieldErrors).toEqual({
      assigneeId: ["The assignee is not a member of this project"],
    });
  });
});

describe("conflicts", () => {
  it("a comment on a deleted issue: CONFLICT parent_missing (foreign key)", async () => {
    const doomed = newId();
    await mutate(member, "issues.create", {
      id: doomed,
      projectId,
      title: "doomed",
      sortKey: "b",
      at: tick(),
    });
    await mutate(owner, "issues.delete", { id: doomed });
    await expectRefused(
      () =>
        mutate(member, "comments.create", {
          id: newId(),
          projectId,
          issueId: doomed,
          body: "too late",
          at: tick(),
        }),
      "CONFLICT",
      "parent_missing",
    );
  });

  it("a comment whose issue belongs to another project: CONFLICT parent_missing", async () => {
    const otherProject = newId();
    await mutate(member, "projects.create", {
      id: otherProject,
      ownerMemberId: newId(),
      name: "Member's own",
      at: tick(),
    });
    await expectRefused(
      () =>
        mutate(member, "comments.create", {
          id: newId(),
          projectId: otherProject,
          issueId,
          body: "wrong project",
          at: tick(),
        }),
      "CONFLICT",
      "parent_missing",
    );
  });

  it("an id that exists already: CONFLICT duplicate; adding a member twice too", async () => {
    await expectRefused(
      () =>
        mutate(member, "issues.create", {
          id: issueId,
          projectId,
          title: "again",
          sortKey: "a",
          at: tick(),
        }),
      "CONFLICT",
      "duplicate",
    );
    await expectRefused(
      () =>
        mutate(owner, "members.add", {
          id: newId(),
          projectId,
          userId: member.id,
          role: "viewer",
          at: tick(),
        }),
      "CONFLICT",
      "duplicate",
    );
  });
});

describe("idempotency and ordering", () => {
  it("a retry returns the original result and writes once", async () => {
    const envelope = {
      clientId: member.clientId,
      mutationId: member.nextMutationId++,
      args: { id: newId(), projectId, title: "Once", sortKey: "c", at: tick() },
    };
    const first = await member.caller.issues.create(envelope);
    const before = await rowCounts(db);
    const retry = await member.caller.issues.create(envelope);
    expect(retry).toEqual(first);
    expect(retry.data.createdAt).toBeInstanceOf(Date);
    expect(await rowCounts(db)).toEqual(before);
  });

  it("a mutation id reused with other arguments: CONFLICT mutation_id_reused, not the first call's answer", async () => {
    const envelope = {
      clientId: member.clientId,
      mutationId: member.nextMutationId++,
      args: { id: issueId, title: "First", at: tick() },
    };
    await member.caller.issues.update(envelope);
    const error = await expectRefused(
      () =>
        member.caller.issues.update({
          ...envelope,
          args: { ...envelope.args, title: "Second" },
        }),
      "CONFLICT",
      "mutation_id_reused",
    );
    expect(error.message).toContain("other arguments");
    expect((await member.caller.issues.update(envelope)).data.title).toBe(
      "First",
    );
  });

  it("a retry of a refused call gets the same refusal, even if it would pass now", async () => {
    const envelope = {
      clientId: viewer.clientId,
      mutationId: viewer.nextMutationId++,
      args: {
        id: newId(),
        projectId,
        title: "Later",
        sortKey: "d",
        at: tick(),
      },
    };
    const first = await failure(viewer.caller.issues.create(envelope));
    expect(first.code).toBe("FORBIDDEN");
    const [viewerMembership] = await db.projectMember.findMany({
      where: { projectId, userId: viewer.id },
    });
    if (!viewerMembership) throw new Error("setup");
    await mutate(owner, "members.changeRole", {
      id: viewerMembership.id,
      role: "member",
      at: tick(),
    });
    const retry = await failure(viewer.caller.issues.create(envelope));
    expect(retry.code).toBe("FORBIDDEN");
    expect(shapeOf(retry).data.reason).toBe("forbidden");
    expect(retry.message).toBe(first.message);
  });

  it("a mutation id below the client's latest: CONFLICT out_of_order", async () => {
    const client = { ...member, clientId: newId(), nextMutationId: 10 };
    await mutate(client, "issues.update", {
      id: issueId,
      priority: "high",
      at: tick(),
    });
    client.nextMutationId = 5;
    await expectRefused(
      () =>
        mutate(client, "issues.update", {
          id: issueId,
          priority: "low",
          at: tick(),
        }),
      "CONFLICT",
      "out_of_order",
    );
  });

  it("another user's client id: FORBIDDEN client_mismatch", async () => {
    await expectRefused(
      () =>
        outsider.caller.projects.create({
          clientId: member.clientId,
          mutationId: member.nextMutationId++,
          args: { id: newId(), ownerMemberId: newId(), name: "x", at: tick() },
        }),
      "FORBIDDEN",
      "client_mismatch",
    );
  });
});

describe("server failures", () => {
  /** A router with test-only procedures built by the same factory. */
  const testRouter = createTRPCRouter({
    broken: mutationProcedure(mutations.comments.delete, async ({ tx }) => {
      await tx.$queryRawUnsafe("SELECT secret_column FROM no_such_table");
    }),
    flaky: mutationProcedure(
      mutations.comments.delete,
      async ({ tx, args }) => {
        attempts++;
        if (attempts === 1 || args.id === alwaysConflicting)
          await tx.$executeRawUnsafe(
            `DO $$ BEGIN RAISE EXCEPTION 'simulated' USING ERRCODE = '40001'; END $$`,
          );
        return attempts;
      },
    ),
  });
  let attempts = 0;
  const alwaysConflicting = "00000000-0000-4000-8000-00000000dead";
  const testCaller = async (user: TestUser) =>
    createCallerFactory(testRouter)(
      await createTRPCContext({
        db,
        headers: new Headers({ authorization: `Bearer ${user.token}` }),
        resolveSession: createBearerSessionResolver(db),
      }),
    );

  it("unknown failures outside mutations: no SQL in message or stack either", async () => {
    const queryRouter = createTRPCRouter({
      leaky: publicProcedure.query(async ({ ctx }) =>
        ctx.db.$queryRawUnsafe("SELECT secret_column FROM no_such_table"),
      ),
    });
    const caller = createCallerFactory(queryRouter)(
      await createTRPCContext({
        db,
        headers: new Headers(),
        resolveSession: createBearerSessionResolver(db),
      }),
    );
    const error = await failure(caller.leaky());
    expect(error.stack).toContain("no_such_table");
    const shape = shapeOf(error);
    expect(shape.message).toBe("Internal server error");
    expect(JSON.stringify(shape)).not.toMatch(
      /no_such_table|secret_column|SELECT/,
    );
  });

  it("unknown failures: INTERNAL_SERVER_ERROR without SQL in the response", async () => {
    const caller = await testCaller(member);
    const error = await failure(
      caller.broken({
        clientId: newId(),
        mutationId: 1,
        args: { id: newId() },
      }),
    );
    const shape = shapeOf(error);
    expect(error.code).toBe("INTERNAL_SERVER_ERROR");
    expect(shape.message).toBe("Internal server error");
    expect(JSON.stringify(shape)).not.toMatch(
      /no_such_table|secret_column|SELECT/,
    );
    expect(shape.data).toMatchObject({ reason: "internal", retryable: true });
  });

  it("serialization failures are retried on the server; persistent ones say retryable", async () => {
    const caller = await testCaller(member);
    attempts = 0;
    const ok = await caller.flaky({
      clientId: newId(),
      mutationId: 1,
      args: { id: newId() },
    });
    expect(ok.data).toBe(2);
    const error = await failure(
      caller.flaky({
        clientId: newId(),
        mutationId: 1,
        args: { id: alwaysConflicting },
      }),
    );
    expect(error.code).toBe("CONFLICT");
    expect(shapeOf(error).data).toMatchObject({
      reason: "write_conflict",
      retryable: true,
    });
  });
});
