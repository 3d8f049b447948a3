import { MembersView } from "~/components/members/members-view";
import { loadProjectInitial } from "~/lib/initial-shapes";
import { requireUser } from "~/lib/viewer";

export default async function MembersPage({
  params,
}: {
  params: Promise<{ projectId: string }>;
}) {
  const [{ projectId }] = await Promise.all([params, requireUser()]);
  // The project's members are part of what every project page renders from.
  return (
    <MembersView
      projectId={projectId}
      initial={await loadProjectInitial(projectId)}
    />
  );
}
