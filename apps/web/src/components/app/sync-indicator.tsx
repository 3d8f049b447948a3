"use client";

import { CloudOff, RefreshCw, ShieldAlert, Wifi } from "lucide-react";

import { useSyncStatus } from "@repo/sync/react";

import { cx } from "~/lib/cx";

/** Offline, sending or synced, with the number of writes the server has not confirmed yet. */
export function SyncIndicator() {
  const status = useSyncStatus();
  const { label, Icon, tone } = status.unauthorized
    ? { label: "Signed out", Icon: ShieldAlert, tone: "text-red-600 bg-red-50" }
    : status.connection === "offline"
      ? { label: "Offline", Icon: CloudOff, tone: "text-amber-700 bg-amber-50" }
      : status.connection === "sending"
        ? {
            label: "Saving",
            Icon: RefreshCw,
            tone: "text-zinc-600 bg-zinc-100",
          }
        : { label: "Live", Icon: Wifi, tone: "text-emerald-700 bg-emerald-50" };
  return (
    <div
      role="status"
      data-testid="sync-status"
      data-connection={status.connection}
      data-pending={status.pending}
      className={cx(
        "inline-flex items-center gap-1.5 rounded-full px-2.5 py-1 text-xs font-medium",
        tone,
      )}
    >
      <Icon
        aria-hidden
        className={cx(
          "size-3.5",
          status.connection === "sending" && "animate-spin",
        )}
      />
      <span>{label}</span>
      {status.pending > 0 && (
        <span className="rounded-full bg-white/80 px-1.5 tabular-nums">
          {status.pending} pending
        </span>
      )}
    </div>
  );
}
