import { z } from "zod";

/**
 * Postgres enums, value for value (`project_role`, `issue_status`, `issue_priority`). Electric
 * delivers enum columns as these strings; a test in @repo/api compares them with Prisma's enums.
 */
export const ProjectRoleSchema = z.enum(["owner", "admin", "member", "viewer"]);
export type ProjectRole = z.infer<typeof ProjectRoleSchema>;

export const IssueStatusSchema = z.enum([
  "backlog",
  "todo",
  "in_progress",
  "done",
  "canceled",
]);
export type IssueStatus = z.infer<typeof IssueStatusSchema>;

export const IssuePrioritySchema = z.enum([
  "none",
  "low",
  "medium",
  "high",
  "urgent",
]);
export type IssuePriority = z.infer<typeof IssuePrioritySchema>;

/** Roles that may create and edit issues and comments. */
export const WRITER_ROLES = [
  "owner",
  "admin",
  "member",
] as const satisfies readonly ProjectRole[];

/** Roles that may manage a project (settings, membership, archiving). */
export const MANAGER_ROLES = [
  "owner",
  "admin",
] as const satisfies readonly ProjectRole[];
