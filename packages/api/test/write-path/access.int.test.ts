/**
 * Who may call what: authentication (sessions, the cache, the scheme) and authorisation by role;
 * a refused call writes nothing.
 */
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";

import type { Scenario } from "./scenario";
import { createBearerSessionResolver } from "../../src";
import { callerFor, mutate, newId, tick } from "../support";
import { writePathTest } from "./scenario";

let db: Db;
let owner: Scenario["owner"],
  member: Scenario["member"],
  viewer: Scenario["viewer"],
  outsider: Scenario["outsider"],
  projectId: Scenario["projectId"],
  issueId: Scenario["issueId"],
  memberCommentId: Scenario["memberCommentId"],
  ownerMembershipId: Scenario["ownerMembershipId"],
  expectRefused: Scenario["expectRefused"];

writePathTest.beforeAll(({ db: fileDb, scenario }) => {
  db = fileDb;
  ({
    owner,
    member,
    viewer,
    outsider,
    projectId,
    issueId,
    memberCommentId,
    ownerMembershipId,
    expectRefused,
  } = scenario);
});

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
