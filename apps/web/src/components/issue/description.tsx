"use client";

import type { Issue } from "~/lib/live";

import { mutations } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

import { EditableText } from "./editable-text";

/**
 * The issue's description as its plain-text projection, edited whole through `issues.update`
 * (the collaborative editor replaces this once @repo/collab-editor is mounted here).
 */
export function Description(props: { issue: Issue; canWrite: boolean }) {
  const update = useMutation(mutations.issues.update);
  return (
    <section
      aria-label="Description"
      className="text-sm leading-6 text-zinc-700"
    >
      <EditableText
        label="description"
        multiline
        value={props.issue.description}
        placeholder={props.canWrite ? "Add a description…" : "No description"}
        disabled={!props.canWrite}
        onSave={(description) =>
          void update({
            id: props.issue.id,
            description,
            at: new Date(),
          }).catch(() => undefined)
        }
      />
    </section>
  );
}
