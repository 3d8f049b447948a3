import { IssueDetail } from "~/components/issue/issue-detail";
import { loadOrNotFound, loadProjectInitial } from "~/lib/initial-shapes";
import { shapes } from "~/lib/shapes";
import { requireUser } from "~/lib/viewer";

export default async function IssuePage({
  params,
}: {
  params: Promise<{ projectId: string; issueId: string }>;
}) {
  const [{ projectId, issueId }] = await Promise.all([params, requireUser()]);
  const [project, issue, comments] = await Promise.all([
    loadProjectInitial(projectId),
    loadOrNotFound(shapes.issue(issueId)),
    loadOrNotFound(shapes.issueComments(issueId)),
  ]);
  return (
    <IssueDetail
      projectId={projectId}
      issueId={issueId}
      initial={{ ...project, issue, comments }}
    />
  );
}
