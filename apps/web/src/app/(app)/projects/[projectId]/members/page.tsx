import { MembersView } from "~/components/members/members-view";
import { loadOrNotFound, loadProjectInitial } from "~/lib/initial-shapes";
import { shapes } from "~/lib/shapes";
import { requireUser } from "~/lib/viewer";

export default async function MembersPage({
  params,
}: {
  params: Promise<{ projectId: string }>;
}) {
  const [{ projectId }, user] = await Promise.all([params, requireUser()]);
  const [project, members] = await Promise.all([
    loadProjectInitial(user.id, projectId),
    loadOrNotFound(shapes.projectMembers(projectId)),
  ]);
  return (
    <MembersView projectId={projectId} initial={{ ...project, members }} />
  );
}
