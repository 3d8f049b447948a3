import type { TxQuery } from "@repo/db";
import type { ProjectRole } from "@repo/schema";

import { forbidden, notFound } from "../errors";

/**
 * The user's role in a project, with the membership row share-locked until commit, so a
 * concurrent removal cannot slip between this check and the write. Not a member (or no such
 * project) → NOT_FOUND: projects a user does not belong to are invisible to them.
 */
export async function roleIn(
  sql: TxQuery,
  projectId: string,
  userId: string,
): Promise<ProjectRole> {
  const [row] = await sql<{ role: ProjectRole }>(
    `SELECT role::text AS role FROM project_members
      WHERE project_id = $1::uuid AND user_id = $2::uuid
        FOR SHARE`,
    [projectId, userId],
    "api_role_in",
  );
  if (!row) throw notFound("Project not found");
  return row.role;
}

/** Throws FORBIDDEN unless `role` is one of `allowed`. */
export function requireRole(
  role: ProjectRole,
  allowed: readonly ProjectRole[],
  action: string,
): void {
  if (!allowed.includes(role))
    throw forbidden(
      `A project ${role} cannot ${action}; it takes one of: ${allowed.join(", ")}`,
    );
}
