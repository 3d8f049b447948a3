"use client";

import type { ProjectInitial } from "~/lib/project-context";
import type { ReactNode } from "react";
import { Lock } from "lucide-react";

import { BackToProjects, EmptyState } from "~/components/ui/empty-state";
import { Loading } from "~/components/ui/spinner";
import { useProject } from "~/lib/project-context";

import { ProjectHeader } from "./project-header";

type ProjectState = ReturnType<typeof useProject>;

/**
 * Shows a project's page only to its members: the projects shape holds exactly the viewer's
 * projects, so a project missing from it once it is up to date is not theirs (or not there).
 */
export function ProjectGate(props: {
  projectId: string;
  initial?: ProjectInitial;
  /** The members' user ids, where the page follows them: keeps their profiles current. */
  memberIds?: readonly string[];
  children: (
    project: ProjectState & { project: NonNullable<ProjectState["project"]> },
  ) => ReactNode;
}) {
  const state = useProject(props.projectId, props.initial, props.memberIds);
  const { project } = state;
  if (!project) {
    return state.isLoaded ? (
      <EmptyState
        icon={Lock}
        title="Project not available"
        action={<BackToProjects />}
      >
        This project does not exist or you are not one of its members.
      </EmptyState>
    ) : (
      <Loading>Loading project…</Loading>
    );
  }
  return (
    <>
      <ProjectHeader
        project={project}
        myRole={state.myRole}
        // The members page follows the memberships themselves: count those, not the profiles,
        // which reload whenever the member set (and so the users shape) changes.
        memberCount={props.memberIds?.length ?? state.people.length}
      />
      {props.children({ ...state, project })}
    </>
  );
}
