"use client";

import type { User } from "~/lib/live";
import type { FormEvent } from "react";
import { useState } from "react";

import type { IssuePriority, IssueStatus } from "@repo/schema";
import { mutations } from "@repo/mutations";

import { FormActions } from "~/components/ui/button";
import { SelectField, TextareaField, TextField } from "~/components/ui/field";
import { newSortKey, PRIORITIES, STATUSES } from "~/lib/issue-fields";
import { useFormMutation } from "~/lib/use-form-mutation";

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
      <TextField
        label="Title"
        error={error}
        autoFocus
        value={title}
        onChange={setTitle}
        placeholder="What needs doing?"
      />
      <TextareaField
        label="Description"
        hint="Optional; you can write more on the issue's page."
        rows={4}
        value={description}
        onChange={setDescription}
      />
      <div className="grid grid-cols-3 gap-3">
        <SelectField
          label="Status"
          value={status}
          onChange={setStatus}
          options={STATUSES}
        />
        <SelectField
          label="Priority"
          value={priority}
          onChange={setPriority}
          options={PRIORITIES}
        />
        <SelectField
          label="Assignee"
          value={assigneeId}
          onChange={setAssigneeId}
          options={[
            { value: "", label: "Unassigned" },
            ...props.people.map((person) => ({
              value: person.id,
              label: person.name,
            })),
          ]}
        />
      </div>
      <FormActions onCancel={props.onDone} submit="Create issue" />
    </form>
  );
}
