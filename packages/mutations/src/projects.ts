import type {
  CreateProjectInput as CreateProjectArgs,
  Project,
  ProjectMember,
} from "@repo/schema";
import {
  ArchiveProjectInput,
  CreateProjectInput,
  UpdateProjectInput,
} from "@repo/schema";

import type { MutationActor } from "./define";
import { defineMutation } from "./define";

/** The project `projects.create` inserts: what reducer and server both write. */
export function newProjectRow(
  input: CreateProjectArgs,
  actor: MutationActor,
): Project {
  return {
    id: input.id,
    name: input.name,
    description: input.description ?? "",
    ownerId: actor.userId,
    archivedAt: null,
    createdAt: input.at,
    updatedAt: input.at,
  };
}

/** The owner's membership `projects.create` inserts with the project. */
export function newOwnerMembershipRow(
  input: CreateProjectArgs,
  actor: MutationActor,
): ProjectMember {
  return {
    id: input.ownerMemberId,
    projectId: input.id,
    userId: actor.userId,
    role: "owner",
    createdAt: input.at,
    updatedAt: input.at,
  };
}

/** Creates a project and makes the actor its owner (one project_members row). */
export const createProject = defineMutation({
  name: "projects.create",
  input: CreateProjectInput,
  reduce: (_rows, input, actor) => [
    { type: "insert", table: "projects", row: newProjectRow(input, actor) },
    {
      type: "insert",
      table: "project_members",
      row: newOwnerMembershipRow(input, actor),
    },
  ],
});

export const updateProject = defineMutation({
  name: "projects.update",
  input: UpdateProjectInput,
  reduce: (_rows, input) => [
    {
      type: "update",
      table: "projects",
      id: input.id,
      changes: {
        ...(input.name !== undefined && { name: input.name }),
        ...(input.description !== undefined && {
          description: input.description,
        }),
        updatedAt: input.at,
      },
    },
  ],
});

export const archiveProject = defineMutation({
  name: "projects.archive",
  input: ArchiveProjectInput,
  reduce: (_rows, input) => [
    {
      type: "update",
      table: "projects",
      id: input.id,
      changes: {
        archivedAt: input.archived ? input.at : null,
        updatedAt: input.at,
      },
    },
  ],
});
