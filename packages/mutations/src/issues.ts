import type {
  CreateIssueInput as CreateIssueArgs,
  Issue,
  IssueStatus,
  UpdateIssueInput as UpdateIssueArgs,
} from "@repo/schema";
import {
  CreateIssueInput,
  DeleteIssueInput,
  UpdateIssueInput,
} from "@repo/schema";

import type { MutationActor, RowChange } from "./define";
import { defineMutation } from "./define";

/**
 * `completed_at` after a status change: set when an issue becomes done, kept while it stays
 * done, cleared when it leaves done. Shared by the reducer and the server handler.
 */
export function completedAtAfter(
  current: Pick<Issue, "status" | "completedAt"> | null,
  status: IssueStatus | undefined,
  at: Date,
): Date | null | undefined {
  if (status === undefined) return undefined;
  if (status !== "done") return null;
  return current?.status === "done" ? current.completedAt : at;
}

/** The row `issues.create` inserts, defaults filled in: what reducer and server both write. */
export function newIssueRow(
  input: CreateIssueArgs,
  actor: MutationActor,
): Issue {
  return {
    id: input.id,
    projectId: input.projectId,
    title: input.title,
    description: input.description ?? "",
    status: input.status ?? "backlog",
    priority: input.priority ?? "none",
    assigneeId: input.assigneeId ?? null,
    creatorId: actor.userId,
    sortKey: input.sortKey,
    completedAt: completedAtAfter(null, input.status, input.at) ?? null,
    createdAt: input.at,
    updatedAt: input.at,
  };
}

/**
 * The columns `issues.update` changes on the issue `current`: the given fields (undefined
 * means unchanged), `completedAt` if the status moves it, and `updatedAt`.
 */
export function issueChanges(
  current: Pick<Issue, "status" | "completedAt">,
  input: UpdateIssueArgs,
): Partial<Omit<Issue, "id">> {
  const completedAt = completedAtAfter(current, input.status, input.at);
  const { id: _id, at, ...fields } = input;
  return {
    ...definedOnly(fields),
    ...(completedAt !== undefined && { completedAt }),
    updatedAt: at,
  };
}

export const createIssue = defineMutation({
  name: "issues.create",
  input: CreateIssueInput,
  reduce: (_rows, input, actor) => [
    { type: "insert", table: "issues", row: newIssueRow(input, actor) },
  ],
});

export const updateIssue = defineMutation({
  name: "issues.update",
  input: UpdateIssueInput,
  reduce: (rows, input) => {
    // completed_at depends on the current status: without the row, predict nothing.
    const current = rows.get("issues", input.id);
    if (!current) return [];
    return [
      {
        type: "update",
        table: "issues",
        id: input.id,
        changes: issueChanges(current, input),
      },
    ];
  },
});

/** Deletes an issue; its comments go with it (ON DELETE CASCADE), as the reducer predicts. */
export const deleteIssue = defineMutation({
  name: "issues.delete",
  input: DeleteIssueInput,
  reduce: (rows, input) => {
    const changes: RowChange[] = [];
    for (const comment of rows.list("comments"))
      if (comment.issueId === input.id)
        changes.push({ type: "delete", table: "comments", id: comment.id });
    changes.push({ type: "delete", table: "issues", id: input.id });
    return changes;
  },
});

/** Drops keys whose value is undefined (optional input fields mean "leave unchanged"). */
function definedOnly<T extends object>(
  value: T,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => v !== undefined),
  ) as { [K in keyof T]?: Exclude<T[K], undefined> };
}
