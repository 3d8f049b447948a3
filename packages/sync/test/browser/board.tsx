/**
 * The page the browser tests drive: a project's issues through `useShape`, an add form through
 * `useMutation`, the sync status. Rendered on the server (SSR) and hydrated by `entry.tsx`.
 */
import type { FormEvent } from "react";
import { useEffect, useState } from "react";

import type { Issue } from "@repo/schema";
import { mutations } from "@repo/mutations";

import type { InitialShape } from "../../src";
import { useMutation, useShape, useSyncStatus } from "../../src/react";

export interface BoardProps {
  projectId: string;
  initial: InitialShape<"issues">;
}

const byTitle = (a: Issue, b: Issue) => a.title.localeCompare(b.title);

export function Board({ projectId, initial }: BoardProps) {
  const { rows, isPending } = useShape(
    {
      table: "issues",
      where: "project_id = $1",
      params: [projectId],
      matches: (issue) => issue.projectId === projectId,
      initial,
    },
    { sort: byTitle },
  );
  const status = useSyncStatus();
  const create = useMutation(mutations.issues.create);
  const [title, setTitle] = useState("");
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    void create({
      id: crypto.randomUUID(),
      projectId,
      title,
      sortKey: "a0",
      at: new Date(),
    }).catch(() => undefined);
    setTitle("");
  };

  return (
    <main data-hydrated={hydrated}>
      <p>
        <span data-testid="connection">{status.connection}</span>,{" "}
        <span data-testid="pending">{status.pending}</span> pending
      </p>
      <ul>
        {rows.map((issue) => (
          <li key={issue.id} data-pending={isPending(issue.id)}>
            {issue.title}
          </li>
        ))}
      </ul>
      <form onSubmit={submit}>
        <input
          aria-label="title"
          value={title}
          onChange={(event) => setTitle(event.target.value)}
        />
        <button type="submit">Add</button>
      </form>
    </main>
  );
}
