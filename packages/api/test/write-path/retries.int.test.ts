/**
 * Idempotent retries, ordering per client, reused mutation ids, and server failures (no SQL in
 * answers, retried serialization failures).
 */
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import { mutations } from "@repo/mutations";

import type { TestUser } from "../support";
import type { Scenario } from "./scenario";
import { createBearerSessionResolver, mutationProcedure } from "../../src";
import {
  createCallerFactory,
  createTRPCContext,
  createTRPCRouter,
  publicProcedure,
} from "../../src/trpc";
import { mutate, newId, rowCounts, tick } from "../support";
import { failure, shapeOf, writePathTest } from "./scenario";

let db: Db;
let owner: Scenario["owner"],
  member: Scenario["member"],
  viewer: Scenario["viewer"],
  outsider: Scenario["outsider"],
  projectId: Scenario["projectId"],
  issueId: Scenario["issueId"],
  expectRefused: Scenario["expectRefused"];

writePathTest.beforeAll(({ db: fileDb, scenario }) => {
  db = fileDb;
  ({ owner, member, viewer, outsider, projectId, issueId, expectRefused } =
    scenario);
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
