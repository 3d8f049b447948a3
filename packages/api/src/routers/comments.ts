import type { TxQuery } from "@repo/db";
import type { ProjectRole } from "@repo/schema";
import { mutations, newCommentRow } from "@repo/mutations";
import { MANAGER_ROLES, WRITER_ROLES } from "@repo/schema";

import { forbidden, notFound } from "../errors";
import { requireRole, roleIn } from "../mutation/authorize";
import { mutationProcedure } from "../mutation/procedure";
import { createTRPCRouter } from "../trpc";
import { commentSelect } from "./selects";

/** A comment (locked for update) with the user's role in its project; NOT_FOUND if hidden. */
async function lockComment(sql: TxQuery, id: string, userId: string) {
  const [row] = await sql<{ author_id: string; role: ProjectRole }>(
    `SELECT c.author_id::text AS author_id, m.role::text AS role
       FROM comments c
       JOIN project_members m ON m.project_id = c.project_id AND m.user_id = $2::uuid
      WHERE c.id = $1::uuid
        FOR UPDATE OF c FOR SHARE OF m`,
    [id, userId],
    "api_lock_comment",
  );
  if (!row) throw notFound("Comment not found");
  return row;
}

export const commentsRouter = createTRPCRouter({
  create: mutationProcedure(
    mutations.comments.create,
    async ({ tx, sql, args, user }) => {
      const role = await roleIn(sql, args.projectId, user.id);
      requireRole(role, WRITER_ROLES, "comment");
      // A deleted issue, or one of another project, fails the composite foreign key
      // comments(issue_id, project_id) → issues(id, project_id): CONFLICT parent_missing.
      return tx.comment.create({
        data: newCommentRow(args, { userId: user.id }),
        select: commentSelect,
      });
    },
  ),

  /** Authors edit their own comments (while they may still write in the project). */
  update: mutationProcedure(
    mutations.comments.update,
    async ({ tx, sql, args, user }) => {
      const current = await lockComment(sql, args.id, user.id);
      requireRole(current.role, WRITER_ROLES, "edit comments");
      if (current.author_id !== user.id)
        throw forbidden("Only its author can edit a comment");
      return tx.comment.update({
        where: { id: args.id },
        data: { body: args.body, updatedAt: args.at },
        select: commentSelect,
      });
    },
  ),

  /** Authors delete their comments; owners and admins delete any. */
  delete: mutationProcedure(
    mutations.comments.delete,
    async ({ tx, sql, args, user }) => {
      const current = await lockComment(sql, args.id, user.id);
      if (current.author_id === user.id)
        requireRole(current.role, WRITER_ROLES, "delete comments");
      else requireRole(current.role, MANAGER_ROLES, "delete others' comments");
      return tx.comment.delete({
        where: { id: args.id },
        select: { id: true },
      });
    },
  ),
});
