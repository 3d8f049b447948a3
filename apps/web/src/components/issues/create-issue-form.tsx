"use client";

import type { User } from "~/lib/live";
import type { FormEvent } from "react";
import { useState } from "react";

import type { IssuePriority, IssueStatus } from "@repo/schema";
import { mutations } from "@repo/mutations";

import { Button } from "~/components/ui/button";
import { Field, Input, Textarea } from "~/components/ui/field";
import { newSortKey, PRIORITIES, STATUSES } from "~/lib/issue-fields";
import { useFormMutation } from "~/lib/use-form-mutation";

const SELECT =
  "h-9 w-full rounded-md border border-zinc-300 bg-white px-2 text-sm shadow-xs focus:border-accent-500";

export function CreateIssueForm(props: {
  projectId: string;
  people: readonly User[];
  onDone: () => void;
}) {
  const create = useFormMutation(mutations.issues.create, props.onDone);
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [status, setStatus] = useState<IssueStatus>("todo");
  const [priority, setPriority] = useState<IssuePriority>("none");
  const [assigneeId, setAssigneeId] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const at = new Date();
    create.submit({
      id: crypto.randomUUID(),
      projectId: props.projectId,
      title,
      description,
      status,
      priority,
      assigneeId: assigneeId || null,
      sortKey: newSortKey(at),
      at,
    });
  };
  const { error } = create;

  return (
    <form onSubmit={submit} className="space-y-4">
      <Field label="Title" error={error}>
        {({ id, describedBy }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={error ? true : undefined}
            autoFocus
            value={title}
            onChange={(event) => setTitle(event.target.value)}
            placeholder="What needs doing?"
          />
        )}
      </Field>
      <Field
        label="Description"
        hint="Optional; you can write more on the issue's page."
      >
        {({ id, describedBy }) => (
          <Textarea
            id={id}
            aria-describedby={describedBy}
            rows={4}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
          />
        )}
      </Field>
      <div className="grid grid-cols-3 gap-3">
        <Field label="Status">
          {({ id }) => (
            <select
              id={id}
              className={SELECT}
              value={status}
              onChange={(event) => setStatus(event.target.value as IssueStatus)}
            >
              {STATUSES.map((s) => (
                <option key={s.value} value={s.value}>
                  {s.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Priority">
          {({ id }) => (
            <select
              id={id}
              className={SELECT}
              value={priority}
              onChange={(event) =>
                setPriority(event.target.value as IssuePriority)
              }
            >
              {PRIORITIES.map((p) => (
                <option key={p.value} value={p.value}>
                  {p.label}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Assignee">
          {({ id }) => (
            <select
              id={id}
              className={SELECT}
              value={assigneeId}
              onChange={(event) => setAssigneeId(event.target.value)}
            >
              <option value="">Unassigned</option>
              {props.people.map((person) => (
                <option key={person.id} value={person.id}>
                  {person.name}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <div className="flex justify-end gap-2">
        <Button onClick={props.onDone}>Cancel</Button>
        <Button type="submit" variant="primary">
          Create issue
        </Button>
      </div>
    </form>
  );
}
