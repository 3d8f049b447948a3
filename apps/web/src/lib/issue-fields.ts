import type { IssuePriority, IssueStatus, ProjectRole } from "@repo/schema";

/** Display order and labels of the enums (the list sorts and groups by this order). */
export const STATUSES: readonly { value: IssueStatus; label: string }[] = [
  { value: "backlog", label: "Backlog" },
  { value: "todo", label: "Todo" },
  { value: "in_progress", label: "In progress" },
  { value: "done", label: "Done" },
  { value: "canceled", label: "Canceled" },
];

export const PRIORITIES: readonly { value: IssuePriority; label: string }[] = [
  { value: "urgent", label: "Urgent" },
  { value: "high", label: "High" },
  { value: "medium", label: "Medium" },
  { value: "low", label: "Low" },
  { value: "none", label: "No priority" },
];

export const ROLES: readonly { value: ProjectRole; label: string }[] = [
  { value: "owner", label: "Owner" },
  { value: "admin", label: "Admin" },
  { value: "member", label: "Member" },
  { value: "viewer", label: "Viewer" },
];

export const statusLabel = (status: IssueStatus) =>
  STATUSES.find((s) => s.value === status)?.label ?? status;
export const priorityLabel = (priority: IssuePriority) =>
  PRIORITIES.find((p) => p.value === priority)?.label ?? priority;
export const roleLabel = (role: ProjectRole) =>
  ROLES.find((r) => r.value === role)?.label ?? role;

export const statusRank = (status: IssueStatus) =>
  STATUSES.findIndex((s) => s.value === status);
export const priorityRank = (priority: IssuePriority) =>
  PRIORITIES.findIndex((p) => p.value === priority);

/**
 * A sort key for a new issue that sorts after every key made before it on any client: the
 * clock in base 36 (fixed width, so string order is time order) and a random tail so two
 * clients creating in the same millisecond do not collide.
 */
export function newSortKey(now: Date): string {
  const time = now.getTime().toString(36).padStart(9, "0");
  const tail = Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, "0");
  return `t${time}${tail}`;
}
