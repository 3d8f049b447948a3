import { z } from "zod";

import {
  IssuePrioritySchema,
  IssueStatusSchema,
  ProjectRoleSchema,
} from "./enums";

/**
 * Rows of the synced tables as the client holds them: camelCase keys (Electric's
 * `snakeCamelMapper()` renames the snake_case Postgres columns) and `Date` timestamps (the
 * `timestamptz` parser of `SHAPE_PARSER`). These are also the objects the server procedures
 * return and the optimistic reducers produce, so one type describes a row everywhere.
 *
 * `z.guid()` rather than `z.uuid()`: any Postgres uuid is a valid id, not only RFC 4122 ones.
 */
const id = z.guid();
const timestamp = z.date();

/** Public profile of a user: the shape proxy never selects `email` or `email_verified`. */
export const UserSchema = z.strictObject({
  id,
  name: z.string(),
  image: z.string().nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type User = z.infer<typeof UserSchema>;

export const ProjectSchema = z.strictObject({
  id,
  name: z.string(),
  description: z.string(),
  ownerId: id,
  archivedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Project = z.infer<typeof ProjectSchema>;

export const ProjectMemberSchema = z.strictObject({
  id,
  projectId: id,
  userId: id,
  role: ProjectRoleSchema,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type ProjectMember = z.infer<typeof ProjectMemberSchema>;

export const IssueSchema = z.strictObject({
  id,
  projectId: id,
  title: z.string(),
  description: z.string(),
  status: IssueStatusSchema,
  priority: IssuePrioritySchema,
  assigneeId: id.nullable(),
  creatorId: id,
  sortKey: z.string(),
  completedAt: timestamp.nullable(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Issue = z.infer<typeof IssueSchema>;

export const CommentSchema = z.strictObject({
  id,
  projectId: id,
  issueId: id,
  authorId: id,
  body: z.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type Comment = z.infer<typeof CommentSchema>;

/**
 * Every synced table by its Postgres name (what a shape's `table` parameter says), with the
 * schema of its rows. The key is the table, so client stores and reducers can be generic.
 */
export const SYNCED_TABLES = {
  users: UserSchema,
  projects: ProjectSchema,
  project_members: ProjectMemberSchema,
  issues: IssueSchema,
  comments: CommentSchema,
} as const;

export type TableName = keyof typeof SYNCED_TABLES;
export const TABLE_NAMES = Object.keys(SYNCED_TABLES) as TableName[];

/**
 * Every table clients read through shapes: the row tables above, and the collaborative fields'
 * update log and presence (followed by their own streams). The kit's sync server is limited to
 * these in `pnpm dev` and the browser tests, so sessions, accounts and the mutation log stay
 * unreadable even with its secret.
 */
export const SHAPE_TABLES: readonly string[] = [
  ...TABLE_NAMES,
  "doc_updates",
  "presence",
];

/** The row type of a synced table. */
export type RowOf<TTable extends TableName> = z.infer<
  (typeof SYNCED_TABLES)[TTable]
>;

/** Columns of each table a shape must not select (they are not part of the synced row). */
export const UNSYNCED_COLUMNS: Readonly<Record<TableName, readonly string[]>> =
  {
    users: ["email", "email_verified"],
    projects: [],
    project_members: [],
    issues: [],
    comments: [],
  };
