/**
 * The shapes the app's proxy serves, by name: for each, the query parameters a client may give
 * (validated here) and how the server turns them, and the signed-in user, into a table, a where
 * clause, its params and the columns. Clients never write any of the four: a where clause is
 * one of the fixed strings below, and what a client gives (a project id, an issue id) only ever
 * becomes a `$n` param, after the membership check that allows it.
 *
 * Membership decides everything: a user reads a project's rows only while a member (any role).
 * A project that does not exist and one the user is not a member of answer the same (`null`,
 * 404), so ids reveal nothing. Two shapes list ids (`projects`, `users`): their definitions
 * follow the user's memberships, so when those change the next request carries a different
 * definition than the client's handle and Electric answers 409 must-refetch: the client
 * re-syncs the new set (see packages/api/README.md, "Shape proxy").
 */
import { z } from "zod";

import type { Db } from "@repo/db";
import type { CollabFieldKey } from "@repo/schema";
import { CollabFieldKeySchema } from "@repo/schema";

import type { SessionUser } from "../trpc";

/** What the proxy asks Electric for: never built from a client's text. */
export interface ShapeSpec {
  table: string;
  where?: string;
  params?: string[];
  columns: readonly string[];
}

interface NamedShape<TArgs> {
  args: z.ZodType<TArgs>;
  /** The definition for this user, or null when they may not read it (answered 404). */
  resolve(db: Db, user: SessionUser, args: TArgs): Promise<ShapeSpec | null>;
}

const uuid = z.uuid({ error: "must be a uuid" });

/**
 * Who may read the rows of each collaborative field (@repo/schema's COLLAB_FIELDS): its Yjs log
 * and presence. Keyed by that list, so a field declared there without a reader here is a type
 * error.
 */
const FIELD_READERS: Record<
  CollabFieldKey,
  (db: Db, user: SessionUser, row: string) => Promise<boolean>
> = { "issues.description": canReadIssue };

const COLUMNS = {
  projects: [
    "id",
    "name",
    "description",
    "owner_id",
    "archived_at",
    "created_at",
    "updated_at",
  ],
  members: ["id", "project_id", "user_id", "role", "created_at", "updated_at"],
  // Public profile only: never `email` (nor `email_verified`).
  users: ["id", "name", "image", "created_at", "updated_at"],
  // Without `description`: the list follows every issue of a project, and a description (the
  // plain-text copy of a collaborative document) can be long. `issue` carries it.
  issues: [
    "id",
    "project_id",
    "title",
    "status",
    "priority",
    "assignee_id",
    "creator_id",
    "sort_key",
    "completed_at",
    "created_at",
    "updated_at",
  ],
  comments: [
    "id",
    "project_id",
    "issue_id",
    "author_id",
    "body",
    "created_at",
    "updated_at",
  ],
  docUpdates: ["id", "field", "row_id", "update", "client_id", "created_at"],
  presence: [
    "client_id",
    "field",
    "row_id",
    "user_id",
    "state",
    "expires_at",
    "updated_at",
  ],
} as const;

const define = <TArgs>(shape: NamedShape<TArgs>) => shape;

/** The rows of `table` whose `column` equals one value (the where every shape here has). */
const rowsWhere = (
  table: string,
  column: string,
  value: string,
  columns: readonly string[],
): ShapeSpec => ({ table, where: `${column} = $1`, params: [value], columns });

/** A condition's shape, or null (404) when the check fails. */
const allowedIf = async (check: Promise<boolean>, spec: () => ShapeSpec) =>
  (await check) ? spec() : null;

/** All the rows of one project in a table with a `project_id`, for the project's members. */
const ofProject = (table: string, columns: readonly string[]) =>
  define({
    args: z.object({ project: uuid }),
    resolve: (db, user, { project }) =>
      allowedIf(isMember(db, user, project), () =>
        rowsWhere(table, "project_id", project, columns),
      ),
  });

export const SHAPES = {
  /** My memberships (every project I belong to, with my role). */
  memberships: define({
    args: z.object({}),
    resolve: async (_db, user) =>
      rowsWhere("project_members", "user_id", user.id, COLUMNS.members),
  }),
  /** The projects I am a member of. */
  projects: define({
    args: z.object({}),
    resolve: async (db, user) => ({
      table: "projects",
      where: "id = ANY($1)",
      params: [pgArray(await myProjectIds(db, user))],
      columns: COLUMNS.projects,
    }),
  }),
  "project-members": ofProject("project_members", COLUMNS.members),
  /** The members of a project, as public profiles. */
  users: define({
    args: z.object({ project: uuid }),
    resolve: async (db, user, { project }) => {
      if (!(await isMember(db, user, project))) return null;
      return {
        table: "users",
        where: "id = ANY($1)",
        params: [pgArray(await memberIds(db, project))],
        columns: COLUMNS.users,
      };
    },
  }),
  issues: ofProject("issues", COLUMNS.issues),
  /** One issue with its description. */
  issue: define({
    args: z.object({ id: uuid }),
    resolve: (db, user, { id }) =>
      allowedIf(canReadIssue(db, user, id), () =>
        rowsWhere("issues", "id", id, [...COLUMNS.issues, "description"]),
      ),
  }),
  /** The comments of one issue (`issue=`) or of a whole project (`project=`). */
  comments: define({
    args: z.union(
      [
        z.object({ issue: uuid, project: z.never().optional() }),
        z.object({ project: uuid, issue: z.never().optional() }),
      ],
      { error: "give either issue=<uuid> or project=<uuid>" },
    ),
    resolve: (db, user, args) =>
      args.issue !== undefined
        ? allowedIf(canReadIssue(db, user, args.issue), () =>
            rowsWhere("comments", "issue_id", args.issue, COLUMNS.comments),
          )
        : allowedIf(isMember(db, user, args.project), () =>
            rowsWhere("comments", "project_id", args.project, COLUMNS.comments),
          ),
  }),
  /** The Yjs update log of one collaborative field of one row (never `doc_states`). */
  "doc-updates": define({
    args: z.object({ field: collabField(), row: uuid }),
    resolve: (db, user, { field, row }) =>
      allowedIf(canReadRow(db, user, field, row), () =>
        docUpdatesSpec(field, row),
      ),
  }),
  /** Who is editing one collaborative field of one row. */
  presence: define({
    args: z.object({ field: collabField(), row: uuid }),
    resolve: (db, user, { field, row }) =>
      allowedIf(canReadRow(db, user, field, row), () =>
        fieldRows("presence", field, row, COLUMNS.presence),
      ),
  }),
};

/**
 * One document's update log, as clients read it through the proxy. The relay's feed reads it
 * from Electric without the rows of its own runtime (`notFrom`: its origin, collab/origin.ts),
 * which it relays at commit.
 */
export function docUpdatesSpec(
  field: CollabFieldKey,
  row: string,
  notFrom?: string,
): ShapeSpec {
  const rows = fieldRows("doc_updates", field, row, COLUMNS.docUpdates);
  if (notFrom === undefined) return rows;
  return {
    ...rows,
    where: `${FIELD_ROWS} AND (origin IS NULL OR origin <> $3)`,
    params: [field, row, notFrom],
  };
}

const FIELD_ROWS = "field = $1 AND row_id = $2";

/** The rows of a collaborative field's table that belong to one document. */
function fieldRows(
  table: string,
  field: CollabFieldKey,
  row: string,
  columns: readonly string[],
): ShapeSpec {
  return {
    table,
    where: FIELD_ROWS,
    params: [field, row],
    columns,
  };
}

export type ShapeName = keyof typeof SHAPES;

export function isShapeName(name: string): name is ShapeName {
  return Object.hasOwn(SHAPES, name);
}

function collabField() {
  return z.enum(CollabFieldKeySchema.options, {
    error: `must be one of ${CollabFieldKeySchema.options.join(", ")}`,
  });
}

// Authorisation reads: one indexed lookup each ------------------------------------------------

async function isMember(db: Db, user: SessionUser, project: string) {
  const rows = await db.$queryRaw<unknown[]>`
    SELECT 1 FROM project_members
     WHERE project_id = ${project}::uuid AND user_id = ${user.id}::uuid`;
  return rows.length > 0;
}

async function canReadIssue(db: Db, user: SessionUser, issue: string) {
  const rows = await db.$queryRaw<unknown[]>`
    SELECT 1 FROM issues i
      JOIN project_members m ON m.project_id = i.project_id AND m.user_id = ${user.id}::uuid
     WHERE i.id = ${issue}::uuid`;
  return rows.length > 0;
}

function canReadRow(
  db: Db,
  user: SessionUser,
  field: CollabFieldKey,
  row: string,
) {
  return FIELD_READERS[field](db, user, row);
}

async function myProjectIds(db: Db, user: SessionUser) {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT project_id::text AS id FROM project_members
     WHERE user_id = ${user.id}::uuid ORDER BY project_id`;
  return rows.map((row) => row.id);
}

async function memberIds(db: Db, project: string) {
  const rows = await db.$queryRaw<{ id: string }[]>`
    SELECT user_id::text AS id FROM project_members
     WHERE project_id = ${project}::uuid ORDER BY user_id`;
  return rows.map((row) => row.id);
}

/**
 * A Postgres array literal of uuids, for `= ANY($1)`. Sorted (the queries order them), so the
 * same set is the same definition, and the same shape, on every request.
 */
function pgArray(ids: readonly string[]) {
  return `{${ids.join(",")}}`;
}

/** The query arguments of each named shape (what `/api/shapes/<name>?…` takes). */
export type ShapeArgs = {
  [TName in ShapeName]: z.output<(typeof SHAPES)[TName]["args"]>;
};
