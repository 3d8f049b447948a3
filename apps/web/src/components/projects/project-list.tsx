"use client";

import type { Project } from "~/lib/live";
import type { FormEvent } from "react";
import { FolderKanban, Plus } from "lucide-react";
import Link from "next/link";
import { useState } from "react";

import type { InitialShape } from "@repo/sync";
import { mutations } from "@repo/mutations";

import { Button } from "~/components/ui/button";
import { Dialog, DialogContent, DialogTrigger } from "~/components/ui/dialog";
import { EmptyState } from "~/components/ui/empty-state";
import { Field, Input, Textarea } from "~/components/ui/field";
import { Loading, Spinner } from "~/components/ui/spinner";
import { cx } from "~/lib/cx";
import { useProjects } from "~/lib/live";
import { useFormMutation } from "~/lib/use-form-mutation";

const byName = (a: Project, b: Project) => a.name.localeCompare(b.name);
const isActive = (project: Project) => project.archivedAt === null;

export function ProjectList(props: {
  initial?: {
    projects?: InitialShape<"projects">;
    memberships?: InitialShape<"project_members">;
  };
}) {
  const { rows, isPending, isUpToDate } = useProjects(props.initial, {
    filter: isActive,
    sort: byName,
  });
  const [creating, setCreating] = useState(false);
  return (
    <div className="space-y-6">
      <div className="flex items-end justify-between gap-4">
        <div>
          <h1 className="text-xl font-semibold tracking-tight text-zinc-900">
            Projects
          </h1>
          <p className="mt-1 text-sm text-zinc-500">
            Projects you are a member of. Changes by anyone show up here live.
          </p>
        </div>
        <Dialog open={creating} onOpenChange={setCreating}>
          <DialogTrigger asChild>
            <Button variant="primary">
              <Plus aria-hidden className="size-4" />
              New project
            </Button>
          </DialogTrigger>
          <DialogContent
            title="New project"
            description="You will be its owner; invite people from its Members page."
          >
            <CreateProjectForm onDone={() => setCreating(false)} />
          </DialogContent>
        </Dialog>
      </div>
      {rows.length === 0 ? (
        isUpToDate || props.initial ? (
          <EmptyState
            icon={FolderKanban}
            title="No projects yet"
            action={
              <Button variant="primary" onClick={() => setCreating(true)}>
                <Plus aria-hidden className="size-4" />
                Create your first project
              </Button>
            }
          >
            Create a project to start tracking issues, or ask a colleague to add
            you to theirs.
          </EmptyState>
        ) : (
          <Loading>Loading projects…</Loading>
        )
      ) : (
        <ul
          aria-label="Projects"
          className="grid gap-3 sm:grid-cols-2 lg:grid-cols-3"
        >
          {rows.map((project) => (
            <li key={project.id}>
              <ProjectCard project={project} pending={isPending(project.id)} />
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ProjectCard(props: { project: Project; pending: boolean }) {
  const { project, pending } = props;
  const body = (
    <>
      <div className="flex items-center gap-2">
        <span className="flex size-8 items-center justify-center rounded-md bg-accent-50 text-sm font-semibold text-accent-700">
          {project.name.slice(0, 1).toUpperCase()}
        </span>
        <h2 className="truncate text-sm font-semibold text-zinc-900">
          {project.name}
        </h2>
        {pending && <Spinner className="ml-auto" />}
      </div>
      <p className="mt-3 line-clamp-2 min-h-10 text-sm text-zinc-500">
        {project.description || "No description"}
      </p>
      <p className="mt-3 text-xs text-zinc-400">
        Created{" "}
        {project.createdAt.toLocaleDateString("en", { dateStyle: "medium" })}
      </p>
    </>
  );
  const card =
    "block rounded-lg border border-zinc-200 bg-white p-4 shadow-xs transition";
  // A project the server has not confirmed has no page yet.
  return pending ? (
    <div aria-busy className={cx(card, "opacity-60")} data-pending>
      {body}
    </div>
  ) : (
    <Link
      href={`/projects/${project.id}`}
      className={cx(card, "hover:border-zinc-300 hover:shadow-sm")}
    >
      {body}
    </Link>
  );
}

function CreateProjectForm(props: { onDone: () => void }) {
  // Optimistic: the card shows at once.
  const { error, submit: create } = useFormMutation(
    mutations.projects.create,
    props.onDone,
  );
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");

  const submit = (event: FormEvent) => {
    event.preventDefault();
    create({
      id: crypto.randomUUID(),
      ownerMemberId: crypto.randomUUID(),
      name,
      description,
      at: new Date(),
    });
  };

  return (
    <form onSubmit={submit} className="space-y-4">
      <Field label="Name" error={error}>
        {({ id, describedBy }) => (
          <Input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={error ? true : undefined}
            autoFocus
            value={name}
            onChange={(event) => setName(event.target.value)}
            placeholder="e.g. Mobile app"
          />
        )}
      </Field>
      <Field label="Description" hint="Optional.">
        {({ id, describedBy }) => (
          <Textarea
            id={id}
            aria-describedby={describedBy}
            rows={3}
            value={description}
            onChange={(event) => setDescription(event.target.value)}
          />
        )}
      </Field>
      <div className="flex justify-end gap-2">
        <Button onClick={props.onDone}>Cancel</Button>
        <Button type="submit" variant="primary">
          Create project
        </Button>
      </div>
    </form>
  );
}
