/**
 * What the server knows of each collaborative field beyond its declaration (@repo/schema's
 * `COLLAB_FIELDS`): how to authorise it. Typed over every declared key, so declaring a field
 * fails typecheck until the server says who may read and edit it.
 */
import type { CollabFieldKey, ProjectRole } from "@repo/schema";
import { COLLAB_FIELDS, WRITER_ROLES } from "@repo/schema";

interface ServerCollabField {
  /**
   * `FROM … WHERE …` naming the owning row `r` and the user's project membership `m`, given
   * the SQL parameter of the row id and a condition on `m.user_id` (`= $5::uuid`, or
   * `= ANY($4::uuid[])` for several users): no row means the user may not see the document.
   */
  scope: (rowParam: string, userCondition: string) => string;
  /** Roles that may edit the document; every member may read it. */
  writerRoles: readonly ProjectRole[];
}

const SERVER_FIELDS: Record<CollabFieldKey, ServerCollabField> = {
  "issues.description": {
    scope: (row, user) => `FROM issues r
      JOIN project_members m ON m.project_id = r.project_id AND m.user_id ${user}
     WHERE r.id = ${row}::uuid`,
    writerRoles: WRITER_ROLES,
  },
};

/** A field's declaration with its server side, and SQL identifiers of its projection. */
export function serverField(key: CollabFieldKey) {
  const field = COLLAB_FIELDS[key];
  return {
    ...field,
    ...SERVER_FIELDS[key],
    /** `"table"`, `"column"`: quoted identifiers (declared names, never user input). */
    tableSql: `"${field.table}"`,
    columnSql: `"${field.column}"`,
  };
}

/** The advisory-lock key of one document: its writes and compactions run one at a time. */
export const docLockKey = (key: CollabFieldKey, rowId: string) =>
  `${key}:${rowId}`;
