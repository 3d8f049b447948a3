import { ProjectIssues } from "~/components/projects/project-issues";
import { loadOrNotFound, loadProjectInitial } from "~/lib/initial-shapes";
import { shapes } from "~/lib/shapes";
import { requireUser } from "~/lib/viewer";

export default async function ProjectPage({
  params,
}: {
  params: Promise<{ projectId: string }>;
}) {
  const [{ projectId }] = await Promise.all([params, requireUser()]);
  const [project, issues] = await Promise.all([
    loadProjectInitial(projectId),
    loadOrNotFound(shapes.issues(projectId)),
  ]);
  return (
    <ProjectIssues projectId={projectId} initial={{ ...project, issues }} />
  );
}
