"use client";

import type { Project } from "~/lib/live";
import { ChevronRight } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";

import type { ProjectRole } from "@repo/schema";

import { cx } from "~/lib/cx";
import { roleLabel } from "~/lib/issue-fields";

export function ProjectHeader(props: {
  project: Project;
  myRole: ProjectRole | undefined;
  memberCount: number;
}) {
  const { project } = props;
  const pathname = usePathname();
  const base = `/projects/${project.id}`;
  const tabs = [
    {
      href: base,
      label: "Issues",
      active: !pathname.startsWith(`${base}/members`),
    },
    {
      href: `${base}/members`,
      label: `Members · ${props.memberCount}`,
      active: pathname.startsWith(`${base}/members`),
    },
  ];
  return (
    <div className="mb-6 space-y-4">
      <nav
        aria-label="Breadcrumb"
        className="flex items-center gap-1 text-sm text-zinc-500"
      >
        <Link href="/projects" className="rounded hover:text-zinc-900">
          Projects
        </Link>
        <ChevronRight aria-hidden className="size-3.5" />
        <span className="text-zinc-900">{project.name}</span>
      </nav>
      <div className="flex items-start justify-between gap-4">
        <div className="min-w-0">
          <h1 className="truncate text-xl font-semibold tracking-tight text-zinc-900">
            {project.name}
          </h1>
          {project.description && (
            <p className="mt-1 text-sm text-zinc-500">{project.description}</p>
          )}
        </div>
        {props.myRole && (
          <span className="rounded-full bg-zinc-100 px-2.5 py-1 text-xs font-medium text-zinc-600">
            You: {roleLabel(props.myRole)}
          </span>
        )}
      </div>
      <div className="flex gap-1 border-b border-zinc-200">
        {tabs.map((tab) => (
          <Link
            key={tab.href}
            href={tab.href as `/projects/${string}`}
            aria-current={tab.active ? "page" : undefined}
            className={cx(
              "-mb-px border-b-2 px-3 py-2 text-sm font-medium",
              tab.active
                ? "border-accent-600 text-zinc-900"
                : "border-transparent text-zinc-500 hover:text-zinc-800",
            )}
          >
            {tab.label}
          </Link>
        ))}
      </div>
    </div>
  );
}
