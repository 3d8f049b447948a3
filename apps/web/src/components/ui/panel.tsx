import type { LucideIcon } from "lucide-react";
import type { ReactNode } from "react";
import { useId } from "react";

import { cx } from "~/lib/cx";

/** A side panel: a white card named by its heading (an icon and a title) for screen readers. */
export function Panel(props: {
  icon: LucideIcon;
  title: string;
  className?: string;
  children: ReactNode;
}) {
  const headingId = useId();
  const Icon = props.icon;
  return (
    <section
      aria-labelledby={headingId}
      className={cx(
        "rounded-lg border border-zinc-200 bg-white p-4 shadow-xs",
        props.className,
      )}
    >
      <h2
        id={headingId}
        className="flex items-center gap-2 text-sm font-semibold text-zinc-900"
      >
        <Icon aria-hidden className="size-4 text-zinc-400" />
        {props.title}
      </h2>
      {props.children}
    </section>
  );
}
