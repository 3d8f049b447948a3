/**
 * Yjs awareness ↔ presence rows. The local awareness state (what y-codemirror.next writes: the
 * cursor) goes out, throttled, as `presence.update`, and again every heartbeat to renew the
 * row's lease; the rows of the other tabs on the same document come in through a shape and
 * become remote awareness states, which y-codemirror.next draws as carets and selections.
 *
 * Not through the outbox: a presence call that failed is never retried as such, the next one
 * (at the latest the next heartbeat) carries the state as it is then. A cursor replayed after
 * a reconnect would be wrong, and a queue of them is worth nothing.
 */
import type { Awareness } from "y-protocols/awareness";

import type { CollabFieldKey, PresenceRow, PresenceState } from "@repo/schema";
import { PRESENCE } from "@repo/schema";

import type { PresenceTransport } from "./transport";
import { toCursorJson } from "./cursor";
import { isDefinitiveRefusal } from "./transport";

/** Follows the presence rows of a document; returns how to stop. */
export type PresenceSource = (
  onRows: (rows: readonly PresenceRow[]) => void,
) => () => void;

export interface BindPresenceOptions {
  /** The editor's awareness (y-protocols), on the field's `Y.Doc`. */
  awareness: Awareness;
  field: CollabFieldKey;
  rowId: string;
  transport: PresenceTransport;
  /** The rows of this document (`presenceShape(…)`, or any other feed of them). */
  source: PresenceSource;
  /** Least time between two updates while the cursor moves. Default 50 ms. */
  throttleMs?: number;
  /** Lease renewal interval. Default `PRESENCE.heartbeatMs` (10 s). */
  heartbeatMs?: number;
  /**
   * A refusal (not allowed, no such document, invalid state): publishing stops, remote
   * presence keeps showing. Transient failures are not reported: the next heartbeat retries.
   */
  onRefused?: (error: unknown) => void;
}

export interface PresenceBinding {
  /** This tab's presence id: its row's key and the client id of its calls. */
  readonly presenceId: string;
  /** Stops publishing and following, removes the remote states, and deletes this tab's row. */
  destroy(): Promise<void>;
}

/** Where the awareness states this binding added come from (the `change` event's origin). */
export const PRESENCE_ORIGIN = "presence";

/**
 * Binds `awareness` to the presence rows of `field` on `rowId` until `destroy()`.
 *
 * @example
 * const binding = bindPresence({ awareness, field: "issues.description", rowId: issue.id,
 *   transport: trpcPresenceTransport(trpc), source: presenceShape({ url, field, rowId }) });
 * addEventListener("pagehide", () => void binding.destroy());
 */
export function bindPresence(options: BindPresenceOptions): PresenceBinding {
  const { awareness } = options;
  const presenceId = crypto.randomUUID();
  const publisher = createPublisher(options, presenceId);
  const remote = createRemoteStates(awareness);

  const onChange = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ) => {
    if (origin !== "local") return;
    const own = awareness.clientID;
    if (changes.added.includes(own) || changes.updated.includes(own))
      publisher.schedule();
  };
  awareness.on("change", onChange);
  publisher.schedule();

  let latest: readonly PresenceRow[] = [];
  let expiryTimer: ReturnType<typeof setTimeout> | undefined;
  const apply = () => {
    clearTimeout(expiryTimer);
    const now = Date.now();
    const live = latest.filter(
      (row) =>
        row.field === options.field &&
        row.rowId === options.rowId &&
        row.clientId !== presenceId &&
        row.state.awarenessId !== awareness.clientID &&
        row.expiresAt.getTime() > now,
    );
    remote.set(live.map((row) => row.state));
    // A crashed tab's row stays until the server's cleanup job: hide it at its expiry.
    const next = Math.min(...live.map((row) => row.expiresAt.getTime()));
    if (Number.isFinite(next))
      expiryTimer = setTimeout(apply, Math.max(0, next - now) + 1);
  };
  const unsubscribe = options.source((rows) => {
    latest = rows;
    apply();
  });

  let destroyed: Promise<void> | undefined;
  return {
    presenceId,
    destroy: () =>
      (destroyed ??= (async () => {
        awareness.off("change", onChange);
        unsubscribe();
        clearTimeout(expiryTimer);
        remote.set([]);
        await publisher.leave();
      })()),
  };
}

/** Sends the local state: throttled, one call at a time, heartbeats, then a leave. */
function createPublisher(options: BindPresenceOptions, presenceId: string) {
  const throttleMs = options.throttleMs ?? 50;
  let mutationId = 0;
  let lastSentAt = -Infinity;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: Promise<void> | undefined;
  let dirty = false;
  let stopped = false;

  const state = () => ({
    awarenessId: options.awareness.clientID,
    cursor: toCursorJson(
      (options.awareness.getLocalState() as { cursor?: unknown } | null)
        ?.cursor,
    ),
  });

  const send = () => {
    timer = undefined;
    if (stopped) return;
    if (inFlight) {
      dirty = true;
      return;
    }
    lastSentAt = Date.now();
    inFlight = options.transport
      .update({
        clientId: presenceId,
        mutationId: ++mutationId,
        args: {
          field: options.field,
          rowId: options.rowId,
          state: state(),
        },
      })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!isDefinitiveRefusal(error)) return;
          stopped = true;
          options.onRefused?.(error);
        },
      )
      .finally(() => {
        inFlight = undefined;
        if (dirty) {
          dirty = false;
          schedule();
        }
      });
  };

  function schedule() {
    if (stopped || timer) return;
    timer = setTimeout(send, Math.max(0, lastSentAt + throttleMs - Date.now()));
  }

  const heartbeat = setInterval(
    schedule,
    options.heartbeatMs ?? PRESENCE.heartbeatMs,
  );

  return {
    schedule,
    leave: async () => {
      stopped = true;
      clearInterval(heartbeat);
      clearTimeout(timer);
      await inFlight;
      // Nothing was ever published: there is no row to delete.
      if (mutationId === 0) return;
      await options.transport
        .leave({
          clientId: presenceId,
          mutationId: ++mutationId,
          args: {},
        })
        // Best effort: a row left behind expires with its lease.
        .catch(() => undefined);
    },
  };
}

/** The remote states this binding put into `awareness`, replaced as a whole on each call. */
function createRemoteStates(awareness: Awareness) {
  const applied = new Map<number, string>();
  return {
    set(states: readonly PresenceState[]) {
      const now = Date.now();
      const added: number[] = [];
      const updated: number[] = [];
      const removed: number[] = [];
      const next = new Map(states.map((state) => [state.awarenessId, state]));
      for (const id of applied.keys())
        if (!next.has(id)) {
          applied.delete(id);
          awareness.states.delete(id);
          awareness.meta.delete(id);
          removed.push(id);
        }
      for (const [id, state] of next) {
        const awarenessState = { user: state.user, cursor: state.cursor };
        const json = JSON.stringify(awarenessState);
        const meta = awareness.meta.get(id);
        // Renewed on every row change (heartbeats included): Awareness drops remote states
        // not renewed for 30 s.
        awareness.meta.set(id, {
          clock: (meta?.clock ?? 0) + 1,
          lastUpdated: now,
        });
        if (applied.get(id) === json && awareness.states.has(id)) continue;
        (applied.has(id) && awareness.states.has(id) ? updated : added).push(
          id,
        );
        applied.set(id, json);
        awareness.states.set(id, awarenessState);
      }
      if (added.length + updated.length + removed.length === 0) return;
      const changes = { added, updated, removed };
      awareness.emit("change", [changes, PRESENCE_ORIGIN]);
      awareness.emit("update", [changes, PRESENCE_ORIGIN]);
    },
  };
}
