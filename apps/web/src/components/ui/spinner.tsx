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
