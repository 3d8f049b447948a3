import type {
  AddMemberInput as AddMemberArgs,
  ProjectMember,
} from "@repo/schema";
import {
  AddMemberInput,
  ChangeMemberRoleInput,
  RemoveMemberInput,
} from "@repo/schema";

import { defineMutation } from "./define";

/** The row `members.add` inserts: what reducer and server both write. */
export function newMemberRow(input: AddMemberArgs): ProjectMember {
  return {
    id: input.id,
    projectId: input.projectId,
    userId: input.userId,
    role: input.role,
    createdAt: input.at,
    updatedAt: input.at,
  };
}

export const addMember = defineMutation({
  name: "members.add",
  input: AddMemberInput,
  reduce: (_rows, input) => [
    { type: "insert", table: "project_members", row: newMemberRow(input) },
  ],
});

export const changeMemberRole = defineMutation({
  name: "members.changeRole",
  input: ChangeMemberRoleInput,
  reduce: (_rows, input) => [
    {
      type: "update",
      table: "project_members",
      id: input.id,
      changes: { role: input.role, updatedAt: input.at },
    },
  ],
});

/** Removes a member (managers), or leaves a project (any member but the owner). */
export const removeMember = defineMutation({
  name: "members.remove",
  input: RemoveMemberInput,
  reduce: (_rows, input) => [
    { type: "delete", table: "project_members", id: input.id },
  ],
});
