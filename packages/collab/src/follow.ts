/**
 * The client of the api's relay of committed edits (`/api/docs/follow` in the web app,
 * `<api>/docs/follow` on the api server): a provider's `follow` over server-sent events.
 */
import type { RelayedUpdate } from "@repo/schema";

import type { FollowDoc } from "./provider";
import { fromBase64 } from "./bytes";
import { documentUrl, silenceWatchdog } from "./relay-stream";

/** What of an `EventSource` this uses: the browser's, or one on `node:http` in Node. */
export interface EventSourceLike {
  addEventListener(
    type: "message" | "ready" | "ping" | "end" | "error",
    listener: (event: { data?: unknown }) => void,
  ): void;
  close(): void;
}

export type EventSourceConstructor = new (
  url: string,
  init?: never,
) => EventSourceLike;

export interface SseFollowOptions {
  /** Default: the global `EventSource` (browsers; Node 20 has none). */
  EventSource?: EventSourceConstructor;
  /** Passed to the constructor (e.g. headers with a bearer token, in Node). */
  init?: unknown;
}

/**
 * Follows the relay at `url` (absolute, or relative to the page). The stream ends on the first
 * error or `event: end` (fell behind, access removed): the provider follows again after a pause,
 * and its shape fills in meanwhile, so EventSource's own reconnecting is not used.
 */
export function sseFollow(
  url: string,
  options: SseFollowOptions = {},
): FollowDoc {
  return (input, handlers) => {
    const Source = options.EventSource ?? globalEventSource();
    const source = new Source(documentUrl(url, input), options.init as never);
    let done = false;
    // The provider follows again after silence, its shape filling in.
    const watchdog = silenceWatchdog((silentMs) =>
      finish(new Error(`the relay went silent for ${silentMs} ms`)),
    );
    const heard = () => {
      if (!done) watchdog.heard();
    };
    const close = () => {
      done = true;
      watchdog.stop();
      source.close();
    };
    const finish = (error: unknown) => {
      if (done) return;
      close();
      handlers.onError(error);
    };
    source.addEventListener("message", (event) => {
      if (done) return;
      heard();
      const update = parseRelayed(event.data);
      if (update) handlers.onData([update]);
      else finish(new Error("the relay sent an event that is not an update"));
    });
    source.addEventListener("ready", (event) => {
      if (done) return;
      const ready = parseReady(event.data);
      if (!ready)
        return finish(new Error("the relay sent a malformed ready event"));
      if (ready.pingMs !== undefined) watchdog.arm(ready.pingMs);
      handlers.onReady?.({ complete: ready.complete });
    });
    source.addEventListener("ping", heard);
    source.addEventListener("end", (event) =>
      finish(new Error(`the relay ended the stream: ${String(event.data)}`)),
    );
    source.addEventListener("error", (event) =>
      finish(new Error("the relay's stream failed", { cause: event })),
    );
    return { unsubscribe: close };
  };
}

function globalEventSource(): EventSourceConstructor {
  const Source = (globalThis as { EventSource?: EventSourceConstructor })
    .EventSource;
  if (!Source)
    throw new Error(
      "no EventSource here: pass one (in Node, @repo/collab/testing's NodeEventSource)",
    );
  return Source;
}

function parseReady(
  data: unknown,
): { complete: boolean; pingMs: number | undefined } | null {
  if (typeof data !== "string") return null;
  try {
    const value = JSON.parse(data) as {
      complete?: unknown;
      pingMs?: unknown;
    } | null;
    const complete = value?.complete;
    const pingMs = value?.pingMs;
    if (typeof complete !== "boolean") return null;
    // An older relay says nothing of its pings: no watchdog then.
    return {
      complete,
      pingMs:
        typeof pingMs === "number" && Number.isFinite(pingMs) && pingMs > 0
          ? pingMs
          : undefined,
    };
  } catch {
    return null;
  }
}

function parseRelayed(data: unknown): RelayedUpdate | null {
  if (typeof data !== "string") return null;
  try {
    const value: unknown = JSON.parse(data);
    if (typeof value !== "object" || value === null) return null;
    const { id, clientId, update } = value as Record<string, unknown>;
    return typeof id === "string" &&
      typeof clientId === "string" &&
      typeof update === "string"
      ? { id, clientId, update: fromBase64(update) }
      : null;
  } catch {
    return null;
  }
}
