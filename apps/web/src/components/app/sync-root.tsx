"use client";

import type { ReactNode } from "react";
import { createContext, useContext, useState } from "react";

import { SyncProvider } from "@repo/sync/react";

import {
  createBrowserSyncClient,
  createServerSyncClient,
} from "~/lib/sync-client";

export interface Viewer {
  id: string;
  name: string;
  email: string;
}

const ViewerContext = createContext<Viewer | null>(null);

/** The signed-in user, for components that show "you" or decide what is yours to edit. */
export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (!viewer) throw new Error("useViewer: outside <SyncRoot>");
  return viewer;
}

/**
 * One client runtime for the signed-in part of the app: made once per page load (it outlives
 * navigations between pages, so shapes and the pending queue carry over).
 */
export function SyncRoot(props: { viewer: Viewer; children: ReactNode }) {
  const [client] = useState(() =>
    typeof window === "undefined"
      ? createServerSyncClient(props.viewer.id)
      : createBrowserSyncClient(props.viewer.id),
  );
  return (
    <ViewerContext.Provider value={props.viewer}>
      <SyncProvider client={client}>{props.children}</SyncProvider>
    </ViewerContext.Provider>
  );
}
