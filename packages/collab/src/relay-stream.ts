/**
 * What the relay's two clients share (`sseFollow` over SSE, `docSocket` over a WebSocket): the
 * document's URL, and the watchdog that ends a stream gone silent.
 */
import type { CollabFieldKey } from "@repo/schema";

/**
 * `url` (relative to the page in a browser; Node has no location and needs an absolute URL)
 * with the document and the follower's client id as its query.
 */
export function documentUrl(
  url: string,
  document: { field: CollabFieldKey; rowId: string; clientId: string },
): string {
  const target = new URL(
    url,
    typeof location === "undefined" ? undefined : location.href,
  );
  target.searchParams.set("field", document.field);
  target.searchParams.set("row", document.rowId);
  target.searchParams.set("client", document.clientId);
  return target.href;
}

/**
 * Calls `onSilent` when a stream hears nothing for longer than two of the relay's pings and a
 * margin for a busy server: its connection died without closing (a proxy stalled, a laptop's
 * network switched), and nothing else would tell. Idle until `arm` (the relay's `ready` says
 * how often it pings; an older relay says nothing, and then there is no watchdog).
 */
export function silenceWatchdog(onSilent: (silentMs: number) => void) {
  let silentMs = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const heard = () => {
    if (silentMs === 0) return;
    clearTimeout(timer);
    timer = setTimeout(() => onSilent(silentMs), silentMs);
  };
  return {
    arm: (pingMs: number) => {
      silentMs = 2 * pingMs + 5_000;
      heard();
    },
    /** Anything came: the stream is alive. */
    heard,
    stop: () => {
      silentMs = 0;
      clearTimeout(timer);
    },
  };
}
