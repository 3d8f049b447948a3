/**
 * Where the queue of writes lives between sessions. The runtime assigns mutation ids itself and
 * tells the storage about every change; a storage only has to keep what it is told, in order.
 * Implementations: `memoryOutbox()` (tests, short-lived processes), `fileOutbox(path)` in
 * `@repo/sync/node`, `indexedDbOutbox(name)` in `@repo/sync/indexeddb`.
 */
import { parse, stringify } from "superjson";

import type { OutboxEntry } from "../types";

export interface OutboxSnapshot {
  clientId: string;
  /** The highest mutation id ever handed out for this client id (0 before the first). */
  lastMutationId: number;
  /** Queued writes in mutation id order. */
  entries: OutboxEntry[];
}

export interface OutboxStorage {
  /** Reads the stored queue; a new storage starts with a fresh random client id. */
  load(): Promise<OutboxSnapshot>;
  /** Stores a new entry (its id is above every earlier one) and remembers its id as the last. */
  add(entry: OutboxEntry): Promise<void>;
  /** Forgets an entry that is done (confirmed, rejected or timed out). */
  remove(mutationId: number): Promise<void>;
}

/** Inputs carry `Date`s: stored as superjson text, read back as the same values. */
export function encodeSnapshot(snapshot: OutboxSnapshot): string {
  return stringify(snapshot);
}

export function decodeSnapshot(text: string): OutboxSnapshot {
  return parse<OutboxSnapshot>(text);
}

export function newSnapshot(): OutboxSnapshot {
  return { clientId: crypto.randomUUID(), lastMutationId: 0, entries: [] };
}

/** Applies `add`/`remove` to a snapshot (shared by the storages that keep one whole). */
export function withEntry(
  snapshot: OutboxSnapshot,
  entry: OutboxEntry,
): OutboxSnapshot {
  return {
    clientId: snapshot.clientId,
    lastMutationId: Math.max(snapshot.lastMutationId, entry.mutationId),
    entries: [...snapshot.entries, entry],
  };
}

export function withoutEntry(
  snapshot: OutboxSnapshot,
  mutationId: number,
): OutboxSnapshot {
  return {
    ...snapshot,
    entries: snapshot.entries.filter(
      (entry) => entry.mutationId !== mutationId,
    ),
  };
}

/**
 * Keeps the queue in memory, encoded as it would be on disk (so tests see the same round trip
 * of `Date`s). Hand the same instance to a new client to simulate a reload.
 */
export function memoryOutbox(initial?: Partial<OutboxSnapshot>): OutboxStorage {
  let stored = encodeSnapshot({ ...newSnapshot(), ...initial });
  return {
    load: async () => decodeSnapshot(stored),
    add: async (entry) => {
      stored = encodeSnapshot(withEntry(decodeSnapshot(stored), entry));
    },
    remove: async (mutationId) => {
      stored = encodeSnapshot(withoutEntry(decodeSnapshot(stored), mutationId));
    },
  };
}
