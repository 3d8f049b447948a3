"use client";

import { AlertTriangle, X } from "lucide-react";

import { MutationRejectedError } from "@repo/sync";
import { useFailedWrites, useSyncClient } from "@repo/sync/react";

/** What the user did, in words, for the toast: "Couldn't update the issue". */
const ACTIONS: Record<string, string> = {
  "projects.create": "create the project",
  "projects.update": "update the project",
  "projects.archive": "archive the project",
  "members.add": "add the member",
  "members.changeRole": "change the role",
  "members.remove": "remove the member",
  "issues.create": "create the issue",
  "issues.update": "update the issue",
  "issues.delete": "delete the issue",
  "comments.create": "post the comment",
  "comments.update": "edit the comment",
  "comments.delete": "delete the comment",
};

/**
 * Writes the server refused, already rolled back by the runtime: one toast each with the
 * server's own message, until dismissed.
 */
export function FailedWrites() {
  const failures = useFailedWrites();
  const client = useSyncClient();
  return (
    <div
      aria-live="assertive"
      className="pointer-events-none fixed right-4 bottom-4 z-50 flex w-96 max-w-[calc(100vw-2rem)] flex-col gap-2"
    >
      {failures.map((failure) => (
        <div
          key={failure.mutationId}
          role="alert"
          data-testid="failed-write"
          className="pointer-events-auto flex items-start gap-3 rounded-lg border border-red-200 bg-white p-3 shadow-lg"
        >
          <AlertTriangle
            aria-hidden
            className="mt-0.5 size-4 shrink-0 text-red-600"
          />
          <div className="min-w-0 flex-1 text-sm">
            <p className="font-medium text-zinc-900">
              Couldn&apos;t {ACTIONS[failure.name] ?? failure.name}
            </p>
            <p className="mt-0.5 text-zinc-600">{describe(failure.error)}</p>
            <p className="mt-1 text-xs text-zinc-400">
              Your change was undone.
            </p>
          </div>
          <button
            type="button"
            aria-label="Dismiss"
            onClick={() => client.dismissFailure(failure.mutationId)}
            className="rounded p-0.5 text-zinc-400 hover:bg-zinc-100 hover:text-zinc-700"
          >
            <X aria-hidden className="size-4" />
          </button>
        </div>
      ))}
    </div>
  );
}

function describe(error: Error): string {
  if (error instanceof MutationRejectedError) {
    const fields = Object.entries(error.fieldErrors).map(
      ([field, messages]) => `${field}: ${messages.join(", ")}`,
    );
    return fields.length > 0 ? fields.join("; ") : error.message;
  }
  return error.message;
}
