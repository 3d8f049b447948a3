/**
 * A project of `count` issues for the bench, inserted in one SQL statement (a bulk insert, not
 * the write path: the bench measures reading and rendering them, and 5,000 mutations would
 * take minutes here). The rows are made here, deterministically, so the bench knows how many
 * the list must show for any search.
 */
import type { IssueStatus } from "@repo/schema";

import type { WebStack } from "../test/e2e/support/web-stack";

const VERBS = ["Fix", "Improve", "Add", "Remove", "Speed up", "Document"];
const THINGS = [
  "crash",
  "login redirect",
  "CSV export",
  "sync indicator",
  "dark mode",
  "search box",
  "billing page",
  "push notifications",
  "keyboard shortcuts",
  "offline queue",
];
const PLACES = ["on Android", "in Safari", "for admins", "after an update"];
/** Four in five are open: the list's default filter ("open") shows most of the project. */
const STATUSES: readonly IssueStatus[] = [
  "backlog",
  "todo",
  "in_progress",
  "todo",
  "backlog",
  "in_progress",
  "todo",
  "backlog",
  "done",
  "canceled",
];
const PRIORITIES = ["none", "low", "medium", "high", "urgent"] as const;
const OPEN = new Set<IssueStatus>(["backlog", "todo", "in_progress"]);

export interface SeededIssue {
  title: string;
  status: IssueStatus;
}

export function benchIssues(count: number): SeededIssue[] {
  return Array.from({ length: count }, (_, i) => ({
    title: `${VERBS[i % VERBS.length]} ${THINGS[Math.floor(i / 7) % THINGS.length]} ${PLACES[Math.floor(i / 3) % PLACES.length]} (#${i + 1})`,
    status: STATUSES[i % STATUSES.length] ?? "todo",
  }));
}

/** How many rows the issue list shows for `search` with its default filter (open issues). */
export function expectedRows(
  issues: readonly SeededIssue[],
  search: string,
): number {
  const words = search.trim().toLowerCase().split(/\s+/).filter(Boolean);
  return issues.filter(
    (issue) =>
      OPEN.has(issue.status) &&
      words.every((word) => issue.title.toLowerCase().includes(word)),
  ).length;
}

/** Inserts a project owned by `ownerId` with `issues`; returns its id. */
export async function seedProject(
  stack: WebStack,
  options: { ownerId: string; name: string; issues: readonly SeededIssue[] },
): Promise<string> {
  const { issues, ownerId } = options;
  const [row] = await stack.query<{ id: string }>(
    `WITH project AS (
       INSERT INTO projects (name, description, owner_id)
       VALUES ($1, 'Benchmark project', $2) RETURNING id
     ), member AS (
       INSERT INTO project_members (project_id, user_id, role)
       SELECT id, $2, 'owner' FROM project
     ), issue AS (
       INSERT INTO issues (project_id, title, status, priority, assignee_id, creator_id, sort_key)
       SELECT project.id, title, status, priority,
              CASE WHEN n % 2 = 0 THEN $2::uuid END, $2, 'k' || lpad(n::text, 6, '0')
       FROM project, unnest($3::text[], $4::issue_status[], $5::issue_priority[])
            WITH ORDINALITY AS rows (title, status, priority, n)
     )
     SELECT id::text AS id FROM project`,
    [
      options.name,
      ownerId,
      issues.map((issue) => issue.title),
      issues.map((issue) => issue.status),
      issues.map((_, i) => PRIORITIES[i % PRIORITIES.length]),
    ],
  );
  if (!row) throw new Error("the bench project was not inserted");
  return row.id;
}
