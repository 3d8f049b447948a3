import type { Metadata } from "next";

import { ProjectList } from "~/components/projects/project-list";
import { loadProjectsInitial } from "~/lib/initial-shapes";
import { requireUser } from "~/lib/viewer";

export const metadata: Metadata = { title: "Projects" };

export default async function ProjectsPage() {
  const user = await requireUser();
  return <ProjectList initial={await loadProjectsInitial(user.id)} />;
}
