/** `issues list|create|update`: through the proxy's issues shape and the shared mutations. */
import type { Issue } from "@repo/schema";
import { mutations } from "@repo/mutations";

import type { CliContext } from "../context";
import { sessionFor } from "../context";
import { timeSortKey } from "../csv/sort-key";
import { CliError, EXIT } from "../errors";
import { json, printRows, shortDate } from "../output";
import { readShape } from "../shapes";
import { resolveProjectId } from "./projects";
import { writeFromOptions } from "./run-writes";

/** Input fields as the options that set them, for error messages. */
const OPTION_OF_FIELD: Record<string, string> = {
  title: "--title",
  description: "--description",
  status: "--status",
  priority: "--priority",
  assigneeId: "--assignee",
  sortKey: "--sort-key",
  id: "<id>",
};
const optionOf = (field: string) => OPTION_OF_FIELD[field] ?? field;

export interface ListOptions {
  project: string;
  status?: string[];
  priority?: string[];
  assignee?: string;
  search?: string;
  limit?: number;
}

export async function listIssues(
  context: CliContext,
  options: ListOptions,
): Promise<void> {
  const session = await sessionFor(context);
  const projectId = await resolveProjectId(session, options.project);
  const search = options.search?.toLowerCase();
  const assignee =
    options.assignee === "me" ? session.user.id : options.assignee;
  const issues = (
    await readShape(session, { name: "issues", params: { project: projectId } })
  )
    .filter(
      (issue) =>
        (!options.status || options.status.includes(issue.status)) &&
        (!options.priority || options.priority.includes(issue.priority)) &&
        (assignee === undefined ||
          (assignee === "none"
            ? issue.assigneeId === null
            : issue.assigneeId === assignee)) &&
        (!search || issue.title.toLowerCase().includes(search)),
    )
    .sort((a, b) =>
      a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0,
    )
    .slice(0, options.limit);
  printRows(context, issues, {
    empty: "No issues match.",
    columns: [
      { header: "id", value: (issue: Issue) => issue.id },
      { header: "status", value: (issue) => issue.status },
      { header: "priority", value: (issue) => issue.priority },
      { header: "title", value: (issue) => issue.title, max: 60 },
      {
        header: "assignee",
        value: (issue) =>
          issue.assigneeId === session.user.id
            ? "me"
            : (issue.assigneeId?.slice(0, 8) ?? ""),
      },
      { header: "updated", value: (issue) => shortDate(issue.updatedAt) },
    ],
  });
}

export interface CreateOptions {
  project: string;
  title: string;
  description?: string;
  status?: string;
  priority?: string;
  assignee?: string;
  sortKey?: string;
}

export async function createIssue(
  context: CliContext,
  options: CreateOptions,
): Promise<void> {
  const session = await sessionFor(context);
  const projectId = await resolveProjectId(session, options.project);
  const at = new Date();
  // Checked by the mutation's schema in `mutate`, before anything is queued or sent.
  const input = {
    id: crypto.randomUUID(),
    projectId,
    title: options.title,
    description: options.description,
    status: options.status,
    priority: options.priority,
    assigneeId: options.assignee,
    sortKey: options.sortKey ?? timeSortKey(at.getTime()),
    at,
  };
  const result = await writeFromOptions(context, session, {
    definition: mutations.issues.create,
    input,
    optionOf,
  });
  context.out(context.json ? json(result.data) : `created issue ${input.id}`);
}

export interface UpdateOptions {
  title?: string;
  description?: string;
  status?: string;
  priority?: string;
  /** A user id, or "none" to unassign. */
  assignee?: string;
  sortKey?: string;
}

export async function updateIssue(
  context: CliContext,
  id: string,
  options: UpdateOptions,
): Promise<void> {
  const { assignee, ...fields } = options;
  const changes = {
    ...fields,
    ...(assignee !== undefined && {
      assigneeId: assignee === "none" ? null : assignee,
    }),
  };
  if (
    Object.values(changes as Record<string, unknown>).every(
      (value) => value === undefined,
    )
  )
    throw new CliError(
      "nothing to change: give --title, --description, --status, --priority, --assignee or --sort-key",
      EXIT.usage,
    );
  const session = await sessionFor(context);
  const input = { id, ...changes, at: new Date() };
  const result = await writeFromOptions(context, session, {
    definition: mutations.issues.update,
    input,
    optionOf,
  });
  context.out(context.json ? json(result.data) : `updated issue ${id}`);
}
