/**
 * A project with an issue whose description is the collaborative field under test, and users
 * of every kind: a member (writer), a viewer, an outsider.
 */
import type { TestUser } from "@repo/api/testing";
import type { Db } from "@repo/db";
import { createUser, mutate, newId, tick } from "@repo/api/testing";

export interface CollabProject {
  owner: TestUser;
  member: TestUser;
  viewer: TestUser;
  outsider: TestUser;
  projectId: string;
  /** Creates an issue whose description (the field's projection) starts as `description`. */
  newIssue: (description?: string) => Promise<string>;
}

export async function createCollabProject(db: Db): Promise<CollabProject> {
  const [owner, member, viewer, outsider] = (await Promise.all(
    ["Owner", "Member", "Viewer", "Outsider"].map((name) =>
      createUser(db, name),
    ),
  )) as [TestUser, TestUser, TestUser, TestUser];
  const projectId = newId();
  await mutate(owner, "projects.create", {
    id: projectId,
    ownerMemberId: newId(),
    name: "Collab",
    at: tick(),
  });
  for (const [user, role] of [
    [member, "member"],
    [viewer, "viewer"],
  ] as const)
    await mutate(owner, "members.add", {
      id: newId(),
      projectId,
      userId: user.id,
      role,
      at: tick(),
    });
  return {
    owner,
    member,
    viewer,
    outsider,
    projectId,
    newIssue: async (description) => {
      const id = newId();
      await mutate(member, "issues.create", {
        id,
        projectId,
        title: "Issue",
        description,
        sortKey: "a0",
        at: tick(),
      });
      return id;
    },
  };
}
