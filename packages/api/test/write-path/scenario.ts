/**
 * The project the write-path tests act in, and how they check a refusal: an owner, a member
 * (with an issue and a comment), a viewer and an outsider, each with a session.
 */
import { TRPCError } from "@trpc/server";
import { expect } from "vitest";

import type { Db } from "@repo/db";

import type { AppErrorData } from "../../src";
import type { TestUser } from "../support";
import { appRouter } from "../../src";
import {
  apiTest,
  createUser,
  mutate,
  newId,
  rowCounts,
  tick,
} from "../support";

export interface Scenario {
  owner: TestUser;
  member: TestUser;
  viewer: TestUser;
  outsider: TestUser;
  projectId: string;
  issueId: string;
  memberCommentId: string;
  memberMembershipId: string;
  ownerMembershipId: string;
  /** Runs `call`, expects it refused with `code` and `reason`, and nothing written. */
  expectRefused: (
    call: () => Promise<unknown>,
    code: TRPCError["code"],
    reason: AppErrorData["reason"],
  ) => Promise<TRPCError>;
}

/** `apiTest` with the file's `scenario`. */
export const writePathTest = apiTest.extend(
  "scenario",
  { scope: "file" },
  async ({ db }): Promise<Scenario> => {
    const owner = await createUser(db, "Owner");
    const member = await createUser(db, "Member");
    const viewer = await createUser(db, "Viewer");
    const outsider = await createUser(db, "Outsider");
    const projectId = newId();
    const ownerMembershipId = newId();
    await mutate(owner, "projects.create", {
      id: projectId,
      ownerMemberId: ownerMembershipId,
      name: "P",
      at: tick(),
    });
    const memberMembershipId = newId();
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
    const issueId = newId();
    await mutate(member, "issues.create", {
      id: issueId,
      projectId,
      title: "Issue",
      sortKey: "a0",
      at: tick(),
    });
    const memberCommentId = newId();
    await mutate(member, "comments.create", {
      id: memberCommentId,
      projectId,
      issueId,
      body: "mine",
      at: tick(),
    });
    return {
      owner,
      member,
      viewer,
      outsider,
      projectId,
      issueId,
      memberCommentId,
      memberMembershipId,
      ownerMembershipId,
      expectRefused: (call, code, reason) =>
        expectRefused(db, call, code, reason),
    };
  },
);

/** The TRPCError a call fails with. */
export async function failure(call: Promise<unknown>) {
  const error = await call.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(TRPCError);
  return error as TRPCError;
}

/** What the client receives for `error`: the errorFormatter's output (`AppErrorData` in data). */
export function shapeOf(error: TRPCError) {
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
  db: Db,
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
