import { SearchX } from "lucide-react";
import Link from "next/link";

import { EmptyState } from "~/components/ui/empty-state";

export default function NotFound() {
  return (
    <EmptyState
      icon={SearchX}
      title="Not found"
      action={
        <Link
          href="/projects"
          className="text-sm font-medium text-accent-600 hover:underline"
        >
          Back to your projects
        </Link>
      }
    >
      It does not exist, or you are not a member of its project.
    </EmptyState>
  );
}
