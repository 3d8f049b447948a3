import type { LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import Link from "next/link";

export function EmptyState(props: {
  icon: LucideIcon;
  title: string;
  children?: ReactNode;
  action?: ReactNode;
}) {
  const Icon = props.icon;
  return (
    <div className="flex flex-col items-center justify-center rounded-lg border border-dashed border-zinc-300 bg-white px-6 py-14 text-center">
      <span className="mb-3 flex size-10 items-center justify-center rounded-full bg-zinc-100">
        <Icon aria-hidden className="size-5 text-zinc-500" />
      </span>
      <h2 className="text-sm font-semibold text-zinc-900">{props.title}</h2>
      {props.children && (
        <p className="mt-1 max-w-sm text-sm text-zinc-500">{props.children}</p>
      )}
      {props.action && <div className="mt-4">{props.action}</div>}
    </div>
  );
}

/** The way out of a page that has nothing to show. */
export function BackToProjects() {
  return (
    <Link
      href="/projects"
      className="text-sm font-medium text-accent-600 hover:underline"
    >
      Back to your projects
    </Link>
  );
}
