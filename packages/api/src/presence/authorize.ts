import type { TxQuery } from "@repo/db";
import type { CollabFieldKey, ProjectRole } from "@repo/schema";
import { WRITER_ROLES } from "@repo/schema";

import { notFound } from "../errors";
import { requireRole } from "../mutation/authorize";

/**
 * Per field: the user's role in the project of the row (`$1` row id, `$2` user id), the
 * membership share-locked until commit so a concurrent removal cannot slip past the check.
 * Keyed by every collaborative field: declaring a field fails typecheck until its rule is here.
 */
const ROLE_OF_ROW: Record<CollabFieldKey, string> = {
  "issues.description": `SELECT m.role::text AS role FROM issues t
      JOIN project_members m ON m.project_id = t.project_id AND m.user_id = $2::uuid
     WHERE t.id = $1::uuid
       FOR SHARE OF m`,
};

/**
 * Presence is authorised like editing the document: a writer of the row's project. A viewer
 * cannot edit, so has no caret to publish (FORBIDDEN); whether viewers see others' presence is
 * the read side's rule (the shape proxy), the same as for reading the document. Not a member,
 * or no such row: NOT_FOUND (rows of other projects are invisible).
 */
export async function requirePresenceWriter(
  sql: TxQuery,
  field: CollabFieldKey,
  rowId: string,
  userId: string,
): Promise<void> {
  const [row] = await sql<{ role: ProjectRole }>(
    ROLE_OF_ROW[field],
    [rowId, userId],
    `api_presence_role_${field.replace(".", "_")}`,
  );
  if (!row) throw notFound("Document not found");
  requireRole(row.role, WRITER_ROLES, "edit this document");
}
