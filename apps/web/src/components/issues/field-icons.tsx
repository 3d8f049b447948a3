import {
  AlertOctagon,
  CheckCircle2,
  Circle,
  CircleDashed,
  CircleDot,
  Minus,
  SignalHigh,
  SignalLow,
  SignalMedium,
  XCircle,
} from "lucide-react";

import type { IssuePriority, IssueStatus } from "@repo/schema";

import { cx } from "~/lib/cx";

export function StatusIcon({
  status,
  className,
}: {
  status: IssueStatus;
  className?: string;
}) {
  const props = { "aria-hidden": true, className: cx("size-4", className) };
  switch (status) {
    case "backlog":
      return (
        <CircleDashed
          {...props}
          className={cx(props.className, "text-zinc-400")}
        />
      );
    case "todo":
      return (
        <Circle {...props} className={cx(props.className, "text-zinc-500")} />
      );
    case "in_progress":
      return (
        <CircleDot
          {...props}
          className={cx(props.className, "text-amber-500")}
        />
      );
    case "done":
      return (
        <CheckCircle2
          {...props}
          className={cx(props.className, "text-accent-600")}
        />
      );
    case "canceled":
      return (
        <XCircle {...props} className={cx(props.className, "text-zinc-400")} />
      );
  }
}

export function PriorityIcon({
  priority,
  className,
}: {
  priority: IssuePriority;
  className?: string;
}) {
  const props = { "aria-hidden": true, className: cx("size-4", className) };
  switch (priority) {
    case "urgent":
      return (
        <AlertOctagon
          {...props}
          className={cx(props.className, "text-red-600")}
        />
      );
    case "high":
      return (
        <SignalHigh
          {...props}
          className={cx(props.className, "text-zinc-700")}
        />
      );
    case "medium":
      return (
        <SignalMedium
          {...props}
          className={cx(props.className, "text-zinc-600")}
        />
      );
    case "low":
      return (
        <SignalLow
          {...props}
          className={cx(props.className, "text-zinc-500")}
        />
      );
    case "none":
      return (
        <Minus {...props} className={cx(props.className, "text-zinc-400")} />
      );
  }
}
