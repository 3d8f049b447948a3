"use client";

import type { ProjectInitial } from "~/lib/project-context";

import type { InitialShape } from "@repo/sync";

import { IssueList } from "~/components/issues/issue-list";

import { ProjectGate } from "./project-gate";
import { RecentComments } from "./recent-comments";

export function ProjectIssues(props: {
  projectId: string;
  initial?: ProjectInitial & { issues?: InitialShape<"issues"> };
}) {
  return (
    <ProjectGate projectId={props.projectId} initial={props.initial}>
      {(project) => (
        <div className="grid items-start gap-6 xl:grid-cols-[1fr_18rem]">
          <IssueList
            projectId={props.projectId}
            people={project.people}
            canWrite={project.canWrite}
            initial={props.initial?.issues}
          />
          <RecentComments
            projectId={props.projectId}
            usersById={project.usersById}
          />
        </div>
      )}
    </ProjectGate>
  );
}
