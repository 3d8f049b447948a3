"use client";

import { useMemo } from "react";

import type { ProjectRole } from "@repo/schema";
import type { InitialShape } from "@repo/sync";
import { MANAGER_ROLES, WRITER_ROLES } from "@repo/schema";

import type { User } from "./live";
import { useProjects, useUsers } from "./live";

export interface ProjectInitial {
  projects?: InitialShape<"projects">;
  memberships?: InitialShape<"project_members">;
  users?: InitialShape<"users">;
}

/**
 * A project as its pages need it: the row, its people, and what the viewer may do. Three
 * shapes (my memberships, my projects, the members' profiles): a browser keeps at most six
 * HTTP/1.1 connections per server, and every live shape holds one, so pages follow few.
 */
export function useProject(
  projectId: string,
  initial: ProjectInitial = {},
  memberIds?: readonly string[],
) {
  const projects = useProjects(initial);
  const users = useUsers(projectId, initial, memberIds);
  const project = projects.rows.find((row) => row.id === projectId);
  const myRole: ProjectRole | undefined = projects.memberships.rows.find(
    (membership) => membership.projectId === projectId,
  )?.role;
  const people = useMemo(
    () => [...users.rows].sort((a, b) => a.name.localeCompare(b.name)),
    [users.rows],
  );
  const usersById = useMemo(
    () => new Map<string, User>(users.rows.map((user) => [user.id, user])),
    [users.rows],
  );
  return {
    project,
    people,
    usersById,
    myRole,
    canWrite: myRole !== undefined && includes(WRITER_ROLES, myRole),
    canManage: myRole !== undefined && includes(MANAGER_ROLES, myRole),
    isLoaded: projects.isUpToDate && projects.memberships.isUpToDate,
  };
}

function includes(roles: readonly ProjectRole[], role: ProjectRole): boolean {
  return roles.includes(role);
}
