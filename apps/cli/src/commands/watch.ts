/**
 * `watch --project …`: follows the project's issues shape live through the proxy and prints
 * each change as it arrives (after the first snapshot), until Ctrl-C.
 */
import type { Issue } from "@repo/schema";

import type { CliContext } from "../context";
import { sessionFor } from "../context";
import { followShape } from "../shapes";
import { resolveProjectId } from "./projects";

/** Fields a change line shows, in this order (the proxy's issues shape has no description). */
const SHOWN: readonly (keyof Issue)[] = [
  "title",
  "status",
  "priority",
  "assigneeId",
  "sortKey",
];

export async function watch(
  context: CliContext,
  options: { project: string },
): Promise<void> {
  const session = await sessionFor(context);
  const projectId = await resolveProjectId(session, options.project);
  const issues = new Map<string, Issue>();
  await followShape(
    session,
    { name: "issues", params: { project: projectId } },
    {
      live: true,
      signal: context.signal,
      events: {
        onChange: (change, initial) => {
          const before = issues.get(change.value.id);
          const operation = change.headers.operation;
          // Updates may carry only the changed columns: merge onto what is known.
          const after: Issue = { ...before, ...change.value };
          if (operation === "delete") issues.delete(after.id);
          else issues.set(after.id, after);
          if (initial) return;
          context.out(
            context.json
              ? JSON.stringify({ operation, issue: after })
              : describe(operation, before, after),
          );
        },
        onUpToDate: once(() =>
          context.err(
            `watching ${issues.size} issues of project ${projectId} (Ctrl-C stops)`,
          ),
        ),
      },
    },
  );
}

function describe(
  operation: "insert" | "update" | "delete",
  before: Issue | undefined,
  after: Issue,
): string {
  const time = new Date().toISOString().slice(11, 19);
  const head = `${time}  ${operation.padEnd(6)}  ${after.id}`;
  if (operation === "insert")
    return `${head}  "${after.title}" [${after.status}, ${after.priority}]`;
  if (operation === "delete") return `${head}  "${after.title}"`;
  const changed = SHOWN.filter(
    (field) =>
      before !== undefined && String(before[field]) !== String(after[field]),
  ).map(
    (field) => `${field}: ${String(before?.[field])} → ${String(after[field])}`,
  );
  return `${head}  "${after.title}"${changed.length > 0 ? `  ${changed.join(", ")}` : ""}`;
}

function once(action: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    action();
  };
}
