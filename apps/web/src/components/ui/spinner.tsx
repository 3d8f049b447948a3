import { LoaderCircle } from "lucide-react";

import { cx } from "~/lib/cx";

export function Spinner({ className }: { className?: string }) {
  return (
    <LoaderCircle
      aria-hidden
      className={cx("size-4 animate-spin text-zinc-400", className)}
    />
  );
}

/** A spinner and what is on its way ("Loading issues…"). */
export function Loading({ children }: { children: string }) {
  return (
    <div
      role="status"
      className="flex items-center gap-2 py-10 text-sm text-zinc-500"
    >
      <Spinner /> {children}
    </div>
  );
}
