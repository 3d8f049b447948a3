"use client";

import { useMemo } from "react";

import type { ProjectRole } from "@repo/schema";
import type { InitialShape } from "@repo/sync";
import { MANAGER_ROLES, WRITER_ROLES } from "@repo/schema";

import { useViewer } from "~/components/app/sync-root";

import type { User } from "./live";
import { useMembers, useProjectRow, useUsers } from "./live";

export interface ProjectInitial {
  projects?: InitialShape<"projects">;
  /** The project's memberships (the `project-members` shape). */
  members?: InitialShape<"project_members">;
  users?: InitialShape<"users">;
}

/**
 * A project as its pages need it: the row, its people, and what the viewer may do. One live
 * shape (the project's memberships: who is in it, with which role, me included); the row and
 * the members' profiles are read once per member set. A browser keeps at most six HTTP/1.1
 * connections per server and every live shape holds one, so the page's own shapes and its
 * writes find room (see the README's "Connections").
 */
export function useProject(
  projectId: string,
  initial: ProjectInitial = {},
  /** The members' user ids where the page computes them already (the same set). */
  memberIds?: readonly string[],
) {
  const viewer = useViewer();
  const members = useMembers(projectId, initial.members);
  const syncedMemberIds = useMemo(
    () =>
      memberIds ??
      members.rows
        .filter((member) => !members.isPending(member.id))
        .map((member) => member.userId)
        .sort(),
    [members, memberIds],
  );
  const myRole: ProjectRole | undefined = members.rows.find(
    (member) => member.userId === viewer.id,
  )?.role;
  const { project, isUpToDate } = useProjectRow(
    projectId,
    myRole !== undefined,
    initial.projects,
  );
  const users = useUsers(projectId, syncedMemberIds, initial.users);
  const people = useMemo(
    () => [...users.rows].sort((a, b) => a.name.localeCompare(b.name)),
    [users.rows],
  );
  const usersById = useMemo(
    () => new Map<string, User>(users.rows.map((user) => [user.id, user])),
    [users.rows],
  );
  return {
    // Not a member (any more): nothing of the project shows, whatever was read before.
    project: myRole === undefined ? undefined : project,
    people,
    usersById,
    myRole,
    canWrite: myRole !== undefined && includes(WRITER_ROLES, myRole),
    canManage: myRole !== undefined && includes(MANAGER_ROLES, myRole),
    isLoaded: isUpToDate && members.isUpToDate,
  };
}

function includes(roles: readonly ProjectRole[], role: ProjectRole): boolean {
  return roles.includes(role);
}
