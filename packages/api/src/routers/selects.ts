import type { Prisma } from "@repo/db";
import type { TableName } from "@repo/schema";

/**
 * Prisma selections of exactly the synced row columns (the keys of the @repo/schema row
 * schemas): what mutations return is what the client's shapes hold. Type tests in
 * selects.test-d.ts keep them equal to the schemas.
 */
export const projectSelect = {
  id: true,
  name: true,
  description: true,
  ownerId: true,
  archivedAt: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.ProjectSelect;

export const projectMemberSelect = {
  id: true,
  projectId: true,
  userId: true,
  role: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.ProjectMemberSelect;

export const issueSelect = {
  id: true,
  projectId: true,
  title: true,
  description: true,
  status: true,
  priority: true,
  assigneeId: true,
  creatorId: true,
  sortKey: true,
  completedAt: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.IssueSelect;

export const commentSelect = {
  id: true,
  projectId: true,
  issueId: true,
  authorId: true,
  body: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.CommentSelect;

export const userSelect = {
  id: true,
  name: true,
  image: true,
  createdAt: true,
  updatedAt: true,
} as const satisfies Prisma.UserSelect;

/** The selection of each synced table's rows, by its Postgres name. */
export const SELECT_BY_TABLE = {
  users: userSelect,
  projects: projectSelect,
  project_members: projectMemberSelect,
  issues: issueSelect,
  comments: commentSelect,
} as const satisfies Record<TableName, object>;
