"use client";

import type { ProjectInitial } from "~/lib/project-context";
import { FileQuestion, Trash2 } from "lucide-react";
import { useRouter } from "next/navigation";

import type { InitialShape } from "@repo/sync";
import { mutations } from "@repo/mutations";
import { useMutation } from "@repo/sync/react";

import {
  AssigneeMenu,
  PriorityMenu,
  StatusMenu,
} from "~/components/issues/issue-field-menus";
import { ProjectGate } from "~/components/projects/project-gate";
import { Button } from "~/components/ui/button";
import { EmptyState } from "~/components/ui/empty-state";
import { Loading, Spinner } from "~/components/ui/spinner";
import { cx } from "~/lib/cx";
import { useIssue } from "~/lib/live";

import { Comments } from "./comments";
import { Description } from "./description";
import { EditableText } from "./editable-text";

const ignore = () => undefined;

export interface IssueInitial extends ProjectInitial {
  issue?: InitialShape<"issues">;
  comments?: InitialShape<"comments">;
}

export function IssueDetail(props: {
  projectId: string;
  issueId: string;
  initial?: IssueInitial;
}) {
  const { projectId, issueId, initial } = props;
  return (
    <ProjectGate projectId={projectId} initial={initial}>
      {(project) => (
        <IssueBody
          projectId={projectId}
          issueId={issueId}
          initial={initial}
          project={project}
        />
      )}
    </ProjectGate>
  );
}

function IssueBody(props: {
  projectId: string;
  issueId: string;
  initial: IssueInitial | undefined;
  project: Parameters<Parameters<typeof ProjectGate>[0]["children"]>[0];
}) {
  const { projectId, issueId, project } = props;
  const router = useRouter();
  const { issue, isPending, isUpToDate } = useIssue(
    issueId,
    props.initial?.issue,
  );
  const update = useMutation(mutations.issues.update);
  const remove = useMutation(mutations.issues.delete);
  if (!issue) {
    return isUpToDate || props.initial?.issue ? (
      <EmptyState icon={FileQuestion} title="Issue not found">
        It may have been deleted.
      </EmptyState>
    ) : (
      <Loading>Loading issue…</Loading>
    );
  }
  const pending = isPending(issue.id);
  const creator = project.usersById.get(issue.creatorId);
  return (
    <div
      data-pending={pending || undefined}
      className="grid gap-8 lg:grid-cols-[1fr_16rem]"
    >
      <article className="min-w-0 space-y-6">
        <div className={cx("flex items-start gap-2", pending && "opacity-70")}>
          <EditableText
            label="title"
            value={issue.title}
            disabled={!project.canWrite}
            className="flex-1 text-2xl font-semibold tracking-tight text-zinc-900"
            onSave={(title) =>
              void update({ id: issue.id, title, at: new Date() }).catch(ignore)
            }
          />
          {pending && <Spinner className="mt-2" />}
        </div>
        <Description issue={issue} canWrite={project.canWrite} />
        <hr className="border-zinc-200" />
        <Comments
          projectId={projectId}
          issueId={issueId}
          usersById={project.usersById}
          canWrite={project.canWrite}
          canManage={project.canManage}
          initial={props.initial?.comments}
        />
      </article>
      <aside className="space-y-4 lg:border-l lg:border-zinc-200 lg:pl-6">
        <dl className="space-y-3 text-sm">
          <Property label="Status">
            <StatusMenu issue={issue} disabled={!project.canWrite} showText />
          </Property>
          <Property label="Priority">
            <PriorityMenu issue={issue} disabled={!project.canWrite} showText />
          </Property>
          <Property label="Assignee">
            <AssigneeMenu
              issue={issue}
              people={project.people}
              disabled={!project.canWrite}
              showText
            />
          </Property>
          <Property label="Created by">
            <span className="text-zinc-700">
              {creator?.name ?? "Former member"}
            </span>
          </Property>
          <Property label="Created">
            <span className="text-zinc-700">
              {issue.createdAt.toLocaleString("en", {
                dateStyle: "medium",
                timeStyle: "short",
              })}
            </span>
          </Property>
        </dl>
        {project.canWrite && (
          <Button
            variant="ghost"
            size="sm"
            className="text-red-600 hover:bg-red-50 hover:text-red-700"
            onClick={() => {
              void remove({ id: issue.id }).catch(ignore);
              router.push(`/projects/${projectId}`);
            }}
          >
            <Trash2 aria-hidden className="size-4" /> Delete issue
          </Button>
        )}
      </aside>
    </div>
  );
}

function Property(props: { label: string; children: React.ReactNode }) {
  return (
    <div className="flex items-center justify-between gap-3">
      <dt className="text-zinc-500">{props.label}</dt>
      <dd>{props.children}</dd>
    </div>
  );
}
