import type { Issue } from "~/lib/live";

import type { IssuePriority, IssueStatus } from "@repo/schema";

import { priorityRank, statusRank } from "~/lib/issue-fields";

export type SortOrder =
  "manual" | "priority" | "status" | "updated" | "created";

export interface IssueFilter {
  status: IssueStatus | "all" | "open";
  priority: IssuePriority | "all";
  /** A user id, "unassigned" or "all". */
  assignee: string;
  search: string;
}

export const DEFAULT_FILTER: IssueFilter = {
  status: "open",
  priority: "all",
  assignee: "all",
  search: "",
};

const OPEN = new Set<IssueStatus>(["backlog", "todo", "in_progress"]);

/** The filter as one predicate (built once per filter change, run per row). */
export function issuePredicate(filter: IssueFilter): (issue: Issue) => boolean {
  const words = filter.search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return (issue) => {
    if (
      filter.status === "open"
        ? !OPEN.has(issue.status)
        : filter.status !== "all" && issue.status !== filter.status
    )
      return false;
    if (filter.priority !== "all" && issue.priority !== filter.priority)
      return false;
    if (filter.assignee !== "all") {
      const wanted = filter.assignee === "unassigned" ? null : filter.assignee;
      if (issue.assigneeId !== wanted) return false;
    }
    if (words.length > 0) {
      const title = issue.title.toLowerCase();
      return words.every((word) => title.includes(word));
    }
    return true;
  };
}

const byKey = (a: Issue, b: Issue) =>
  a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : a.id < b.id ? -1 : 1;

export const ISSUE_ORDERS: Record<SortOrder, (a: Issue, b: Issue) => number> = {
  manual: byKey,
  priority: (a, b) =>
    priorityRank(a.priority) - priorityRank(b.priority) || byKey(a, b),
  status: (a, b) => statusRank(a.status) - statusRank(b.status) || byKey(a, b),
  updated: (a, b) =>
    b.updatedAt.getTime() - a.updatedAt.getTime() || byKey(a, b),
  created: (a, b) =>
    b.createdAt.getTime() - a.createdAt.getTime() || byKey(a, b),
};

export const SORT_LABELS: Record<SortOrder, string> = {
  manual: "Oldest first",
  created: "Newest first",
  updated: "Recently updated",
  priority: "Priority",
  status: "Status",
};
