"use client";

import type { Awareness } from "y-protocols/awareness";
import { useSyncExternalStore } from "react";

import type { PresenceUser } from "@repo/schema";

interface Editor {
  awarenessId: number;
  user: PresenceUser;
}

const NONE: readonly Editor[] = [];

function editorsOf(awareness: Awareness): readonly Editor[] {
  const editors: Editor[] = [];
  for (const [awarenessId, state] of awareness.getStates()) {
    const user = (state as { user?: PresenceUser }).user;
    if (awarenessId !== awareness.clientID && user)
      editors.push({ awarenessId, user });
  }
  return editors.length === 0 ? NONE : editors;
}

/** The other tabs editing this document (from awareness), re-rendered as they come and go. */
export function useRemoteEditors(
  awareness: Awareness | null,
): readonly Editor[] {
  return useSyncExternalStore(
    (onChange) => {
      if (!awareness) return () => undefined;
      awareness.on("change", onChange);
      return () => awareness.off("change", onChange);
    },
    () => (awareness ? cachedEditors(awareness) : NONE),
    () => NONE,
  );
}

const cache = new WeakMap<
  Awareness,
  { key: string; editors: readonly Editor[] }
>();

/**
 * The same array while the editors are the same (useSyncExternalStore compares snapshots by
 * identity), so a cursor move does not re-render the list.
 */
function cachedEditors(awareness: Awareness): readonly Editor[] {
  const editors = editorsOf(awareness);
  const key = JSON.stringify(editors);
  const cached = cache.get(awareness);
  if (cached?.key === key) return cached.editors;
  cache.set(awareness, { key, editors });
  return editors;
}

/** Who else is editing: names in their caret colour, announced politely as they change. */
export function PresenceList(props: {
  awareness: Awareness | null;
  className?: string;
}) {
  const editors = useRemoteEditors(props.awareness);
  return (
    <ul
      className={props.className}
      aria-label="Also editing"
      aria-live="polite"
    >
      {editors.map(({ awarenessId, user }) => (
        <li key={awarenessId} style={{ color: user.color }}>
          {user.name}
        </li>
      ))}
    </ul>
  );
}
