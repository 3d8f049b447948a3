import type {
  Comment,
  CreateCommentInput as CreateCommentArgs,
} from "@repo/schema";
import {
  CreateCommentInput,
  DeleteCommentInput,
  UpdateCommentInput,
} from "@repo/schema";

import type { MutationActor } from "./define";
import { defineMutation } from "./define";

/** The row `comments.create` inserts: what reducer and server both write. */
export function newCommentRow(
  input: CreateCommentArgs,
  actor: MutationActor,
): Comment {
  return {
    id: input.id,
    projectId: input.projectId,
    issueId: input.issueId,
    authorId: actor.userId,
    body: input.body,
    createdAt: input.at,
    updatedAt: input.at,
  };
}

export const createComment = defineMutation({
  name: "comments.create",
  input: CreateCommentInput,
  reduce: (_rows, input, actor) => [
    { type: "insert", table: "comments", row: newCommentRow(input, actor) },
  ],
});

/** Edits a comment's body (its author only). */
export const updateComment = defineMutation({
  name: "comments.update",
  input: UpdateCommentInput,
  reduce: (_rows, input) => [
    {
      type: "update",
      table: "comments",
      id: input.id,
      changes: { body: input.body, updatedAt: input.at },
    },
  ],
});

export const deleteComment = defineMutation({
  name: "comments.delete",
  input: DeleteCommentInput,
  reduce: (_rows, input) => [
    { type: "delete", table: "comments", id: input.id },
  ],
});
