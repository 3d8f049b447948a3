/**
 * Bad input (BAD_REQUEST with field-level messages) and conflicts with the database (CONFLICT
 * with a reason); nothing written.
 */
import { describe, expect, it } from "vitest";

import { LIMITS } from "@repo/schema";

import type { Scenario } from "./scenario";
import { mutate, newId, tick } from "../support";
import { shapeOf, writePathTest } from "./scenario";

let owner: Scenario["owner"],
  member: Scenario["member"],
  outsider: Scenario["outsider"],
  projectId: Scenario["projectId"],
  issueId: Scenario["issueId"],
  memberCommentId: Scenario["memberCommentId"],
  expectRefused: Scenario["expectRefused"];

writePathTest.beforeAll(({ scenario }) => {
  ({
    owner,
    member,
    outsider,
    projectId,
    issueId,
    memberCommentId,
    expectRefused,
  } = scenario);
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
