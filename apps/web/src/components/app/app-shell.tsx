"use client";

import type { ReactNode } from "react";

import { signOut } from "~/lib/auth-client";

import type { Viewer } from "./sync-root";
import { AppHeader } from "./app-header";
import { FailedWrites } from "./failed-writes";
import { SyncRoot } from "./sync-root";

async function signOutAndLeave(): Promise<void> {
  await signOut();
  // A full load: the client runtime, its shapes and its queue belong to the old session.
  window.location.assign("/sign-in");
}

/** The signed-in part of the app: header, live data for the viewer, refusal toasts. */
export function AppShell(props: { viewer: Viewer; children: ReactNode }) {
  return (
    <SyncRoot viewer={props.viewer}>
      <AppHeader onSignOut={signOutAndLeave} />
      <main className="mx-auto max-w-6xl px-4 py-8 sm:px-6">
        {props.children}
      </main>
      <FailedWrites />
    </SyncRoot>
  );
}
