import { SearchX } from "lucide-react";

import { BackToProjects, EmptyState } from "~/components/ui/empty-state";

export default function NotFound() {
  return (
    <EmptyState icon={SearchX} title="Not found" action={<BackToProjects />}>
      It does not exist, or you are not a member of its project.
    </EmptyState>
  );
}
