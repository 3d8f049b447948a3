/**
 * For every mutation: the optimistic reducer and the server procedure, run on the same input
 * against the same rows, produce the same rows (compared over every synced table), and the txid
 * returned is the transaction that wrote them.
 */
import { describe, expect, it } from "vitest";

import type { Db } from "@repo/db";
import type { MutationName } from "@repo/mutations";

import type { TestUser } from "./support";
import {
  apiTest,
  createUser,
  expectServerMatchesReducer,
  mutate,
  newId,
  tick,
} from "./support";

let db: Db;
let alice: TestUser; // owner
let bob: TestUser; // member
let carol: TestUser; // admin
let dave: TestUser; // viewer

apiTest.beforeAll(async ({ db: fileDb }) => {
  db = fileDb;
  alice = await createUser(db, "Alice");
  bob = await createUser(db, "Bob");
  carol = await createUser(db, "Carol");
  dave = await createUser(db, "Dave");
});

/** A project owned by Alice, with Bob (member), Carol (admin) and Dave (viewer). */
async function project() {
  const id = newId();
  await mutate(alice, "projects.create", {
    id,
    ownerMemberId: newId(),
    name: "Project",
    at: tick(),
  });
  const members: Record<string, string> = {};
  for (const [user, role] of [
    [bob, "member"],
    [carol, "admin"],
    [dave, "viewer"],
  ] as const) {
    members[user.name] = newId();
    await mutate(alice, "members.add", {
      id: members[user.name],
      projectId: id,
      userId: user.id,
      role,
      at: tick(),
    });
  }
  return { id, members };
}

async function issue(projectId: string, overrides: object = {}) {
  const id = newId();
  await mutate(bob, "issues.create", {
    id,
    projectId,
    title: "Issue",
    sortKey: "a0",
    at: tick(),
    ...overrides,
  });
  return id;
}

async function comment(projectId: string, issueId: string, author = bob) {
  const id = newId();
  await mutate(author, "comments.create", {
    id,
    projectId,
    issueId,
    body: "A comment",
    at: tick(),
  });
  return id;
}

const scenarios: Record<MutationName, () => Promise<void>> = {
  "projects.create": async () => {
    await expectServerMatchesReducer(db, alice, "projects.create", {
      id: newId(),
      ownerMemberId: newId(),
      name: "  Launch  ",
      description: "Everything for the launch",
      at: tick(),
    });
  },
  "projects.update": async () => {
    const { id } = await project();
    await expectServerMatchesReducer(db, carol, "projects.update", {
      id,
      name: "Renamed",
      at: tick(),
    });
  },
  "projects.archive": async () => {
    const { id } = await project();
    await expectServerMatchesReducer(db, alice, "projects.archive", {
      id,
      archived: true,
      at: tick(),
    });
    await expectServerMatchesReducer(db, alice, "projects.archive", {
      id,
      archived: false,
      at: tick(),
    });
  },
  "members.add": async () => {
    const { id } = await project();
    const erin = await createUser(db, "Erin");
    await expectServerMatchesReducer(db, carol, "members.add", {
      id: newId(),
      projectId: id,
      userId: erin.id,
      role: "viewer",
      at: tick(),
    });
  },
  "members.changeRole": async () => {
    const { members } = await project();
    await expectServerMatchesReducer(db, alice, "members.changeRole", {
      id: members.Bob,
      role: "admin",
      at: tick(),
    });
  },
  "members.remove": async () => {
    const { members } = await project();
    await expectServerMatchesReducer(db, carol, "members.remove", {
      id: members.Dave,
    });
    // Leaving: a member removes their own membership.
    await expectServerMatchesReducer(db, bob, "members.remove", {
      id: members.Bob,
    });
  },
  "issues.create": async () => {
    const { id } = await project();
    await expectServerMatchesReducer(db, bob, "issues.create", {
      id: newId(),
      projectId: id,
      title: "Minimal issue",
      sortKey: "a0",
      at: tick(),
    });
    await expectServerMatchesReducer(db, bob, "issues.create", {
      id: newId(),
      projectId: id,
      title: "Done on arrival",
      description: "with everything set",
      status: "done",
      priority: "urgent",
      assigneeId: dave.id,
      sortKey: "a1",
      at: tick(),
    });
  },
  "issues.update": async () => {
    const { id } = await project();
    const issueId = await issue(id);
    for (const args of [
      { title: "Retitled", priority: "high", assigneeId: carol.id },
      { status: "done" },
      { status: "done", description: "still done: completedAt stays" },
      { status: "in_progress", assigneeId: null },
      { sortKey: "Zz" },
    ])
      await expectServerMatchesReducer(db, carol, "issues.update", {
        id: issueId,
        ...args,
        at: tick(),
      });
  },
  "issues.delete": async () => {
    const { id } = await project();
    const issueId = await issue(id);
    const otherIssue = await issue(id);
    await comment(id, issueId);
    await comment(id, issueId, carol);
    await comment(id, otherIssue);
    const { changes } = await expectServerMatchesReducer(
      db,
      bob,
      "issues.delete",
      {
        id: issueId,
      },
    );
    expect(changes.filter((c) => c.table === "comments")).toHaveLength(2);
  },
  "comments.create": async () => {
    const { id } = await project();
    const issueId = await issue(id);
    await expectServerMatchesReducer(db, carol, "comments.create", {
      id: newId(),
      projectId: id,
      issueId,
      body: "  Looks good  ",
      at: tick(),
    });
  },
  "comments.update": async () => {
    const { id } = await project();
    const commentId = await comment(id, await issue(id));
    await expectServerMatchesReducer(db, bob, "comments.update", {
      id: commentId,
      body: "Edited",
      at: tick(),
    });
  },
  "comments.delete": async () => {
    const { id } = await project();
    const issueId = await issue(id);
    await expectServerMatchesReducer(db, bob, "comments.delete", {
      id: await comment(id, issueId),
    });
    // A manager deletes someone else's comment.
    await expectServerMatchesReducer(db, alice, "comments.delete", {
      id: await comment(id, issueId),
    });
  },
};

describe("every mutation: server writes what its reducer predicts", () => {
  for (const [name, scenario] of Object.entries(scenarios)) it(name, scenario);
});
