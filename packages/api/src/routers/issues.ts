import type { TxQuery } from "@repo/db";
import type { IssueStatus, ProjectRole } from "@repo/schema";
import { issueChanges, mutations, newIssueRow } from "@repo/mutations";
import { WRITER_ROLES } from "@repo/schema";

import { invalidField, notFound } from "../errors";
import { requireRole, roleIn } from "../mutation/authorize";
import { mutationProcedure } from "../mutation/procedure";
import { createTRPCRouter } from "../trpc";
import { issueSelect } from "./selects";

/**
 * An issue (locked for update) with the user's role in its project (membership share-locked),
 * in one round trip; NOT_FOUND if either is missing.
 */
async function lockIssue(sql: TxQuery, id: string, userId: string) {
  const [row] = await sql<{
    project_id: string;
    status: IssueStatus;
    completed_at: Date | null;
    role: ProjectRole;
  }>(
    `SELECT i.project_id::text AS project_id, i.status::text AS status, i.completed_at,
            m.role::text AS role
       FROM issues i
       JOIN project_members m ON m.project_id = i.project_id AND m.user_id = $2::uuid
      WHERE i.id = $1::uuid
        FOR UPDATE OF i FOR SHARE OF m`,
    [id, userId],
    "api_lock_issue",
  );
  if (!row) throw notFound("Issue not found");
  return row;
}

/** Assignees must be members of the issue's project (any role). */
async function requireAssignable(
  sql: TxQuery,
  projectId: string,
  assigneeId: string | null | undefined,
): Promise<void> {
  if (!assigneeId) return;
  const rows = await sql(
    `SELECT 1 FROM project_members
      WHERE project_id = $1::uuid AND user_id = $2::uuid FOR SHARE`,
    [projectId, assigneeId],
    "api_assignable",
  );
  if (rows.length === 0)
    throw invalidField(
      "assigneeId",
      "The assignee is not a member of this project",
    );
}

export const issuesRouter = createTRPCRouter({
  create: mutationProcedure(
    mutations.issues.create,
    async ({ tx, sql, args, user }) => {
      const role = await roleIn(sql, args.projectId, user.id);
      requireRole(role, WRITER_ROLES, "create issues");
      await requireAssignable(sql, args.projectId, args.assigneeId);
      return tx.issue.create({
        data: newIssueRow(args, { userId: user.id }),
        select: issueSelect,
      });
    },
  ),

  update: mutationProcedure(
    mutations.issues.update,
    async ({ tx, sql, args, user }) => {
      const current = await lockIssue(sql, args.id, user.id);
      requireRole(current.role, WRITER_ROLES, "edit issues");
      await requireAssignable(sql, current.project_id, args.assigneeId);
      return tx.issue.update({
        where: { id: args.id },
        data: issueChanges(
          { status: current.status, completedAt: current.completed_at },
          args,
        ),
        select: issueSelect,
      });
    },
  ),

  /** Deletes an issue and (ON DELETE CASCADE) its comments. */
  delete: mutationProcedure(
    mutations.issues.delete,
    async ({ tx, sql, args, user }) => {
      const current = await lockIssue(sql, args.id, user.id);
      requireRole(current.role, WRITER_ROLES, "delete issues");
      return tx.issue.delete({ where: { id: args.id }, select: { id: true } });
    },
  ),
});
