"use client";

import { useEffect } from "react";

import type { BindPresenceOptions } from "../presence/bind-presence";
import { bindPresence } from "../presence/bind-presence";

/**
 * Publishes this tab's presence while mounted (`bindPresence`), and leaves on unmount and on
 * `pagehide` (a tab closing or navigating away), joining again if the page comes back from the
 * back/forward cache. Pass a stable `transport` and `source` (e.g. from `useMemo`): a new one
 * rebinds. `null` publishes nothing (e.g. before the document is loaded, or for a viewer).
 */
export function usePresence(options: BindPresenceOptions | null): void {
  useEffect(() => {
    if (!options) return;
    let binding = bindPresence(options);
    const onPageHide = () => void binding.destroy();
    const onPageShow = (event: PageTransitionEvent) => {
      if (event.persisted) binding = bindPresence(options);
    };
    addEventListener("pagehide", onPageHide);
    addEventListener("pageshow", onPageShow);
    return () => {
      removeEventListener("pagehide", onPageHide);
      removeEventListener("pageshow", onPageShow);
      void binding.destroy();
    };
    // The options object is new on every render; what it binds is these.
  }, [
    options?.awareness,
    options?.field,
    options?.rowId,
    options?.transport,
    options?.source,
  ]);
}
