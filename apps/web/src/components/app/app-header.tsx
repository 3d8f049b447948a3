"use client";

import { Activity, ChevronDown, LogOut, SquareKanban } from "lucide-react";
import Link from "next/link";

import { Avatar } from "~/components/ui/avatar";
import {
  Menu,
  MenuContent,
  MenuItem,
  MenuLabel,
  MenuSeparator,
  MenuTrigger,
} from "~/components/ui/menu";

import { SyncIndicator } from "./sync-indicator";
import { useViewer } from "./sync-root";

export function AppHeader(props: { onSignOut: () => Promise<void> }) {
  const viewer = useViewer();
  return (
    <header className="sticky top-0 z-30 border-b border-zinc-200 bg-white/90 backdrop-blur">
      <div className="mx-auto flex h-14 max-w-6xl items-center gap-4 px-4 sm:px-6">
        <Link
          href="/projects"
          className="flex items-center gap-2 rounded-md text-sm font-semibold text-zinc-900"
        >
          <span className="flex size-7 items-center justify-center rounded-md bg-accent-600 text-white">
            <SquareKanban aria-hidden className="size-4" />
          </span>
          Tracker
        </Link>
        <div className="ml-auto flex items-center gap-3">
          <SyncIndicator />
          <Menu>
            <MenuTrigger
              className="flex items-center gap-2 rounded-md px-1.5 py-1 text-sm text-zinc-700 hover:bg-zinc-100"
              aria-label={`Account: ${viewer.name}`}
              data-testid="user-menu"
            >
              <Avatar id={viewer.id} name={viewer.name} size="md" />
              <span className="hidden font-medium sm:inline">
                {viewer.name}
              </span>
              <ChevronDown aria-hidden className="size-3.5 text-zinc-400" />
            </MenuTrigger>
            <MenuContent align="end">
              <MenuLabel>
                <span className="block text-sm font-medium text-zinc-900">
                  {viewer.name}
                </span>
                <span className="block font-normal">{viewer.email}</span>
              </MenuLabel>
              <MenuSeparator />
              <MenuItem asChild>
                <Link href="/status">
                  <Activity aria-hidden className="size-4" />
                  System status
                </Link>
              </MenuItem>
              <MenuItem onSelect={() => void props.onSignOut()}>
                <LogOut aria-hidden className="size-4" />
                Sign out
              </MenuItem>
            </MenuContent>
          </Menu>
        </div>
      </div>
    </header>
  );
}
