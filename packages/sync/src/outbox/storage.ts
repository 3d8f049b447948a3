/**
 * Where the queue of writes lives between sessions. The runtime assigns mutation ids itself and
 * tells the storage about every change; a storage only has to keep what it is told, in order.
 * Implementations: `memoryOutbox()` (tests, short-lived processes), `fileOutbox(path)` in
 * `@repo/sync/node`, `indexedDbOutbox(name)` in `@repo/sync/indexeddb`.
 */
import { parse, stringify } from "superjson";

import type { OutboxEntry } from "../types";

export type NewOutboxEntry = Omit<OutboxEntry, "mutationId">;

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
  /**
   * Stores a new entry under the next mutation id and returns it. Assigning the id and storing
   * the entry are one atomic step, so tabs sharing a storage never hand out one id twice and a
   * reader never sees id n+1 stored without id n.
   */
  add(entry: NewOutboxEntry): Promise<OutboxEntry>;
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

/**
 * Keeps the queue in memory, each entry encoded as it would be on disk (so tests see the same
 * round trip of `Date`s) and one at a time (a write costs the same with 10 or 10,000 queued).
 * Hand the same instance to a new client to simulate a reload.
 */
export function memoryOutbox(initial?: Partial<OutboxSnapshot>): OutboxStorage {
  const { clientId, lastMutationId, entries } = {
    ...newSnapshot(),
    ...initial,
  };
  let last = lastMutationId;
  const stored = new Map(
    entries.map((entry) => [entry.mutationId, stringify(entry)]),
  );
  return {
    load: async () => ({
      clientId,
      lastMutationId: last,
      entries: [...stored.values()].map((text) => parse<OutboxEntry>(text)),
    }),
    add: async (entry) => {
      const added = { ...entry, mutationId: ++last };
      stored.set(added.mutationId, stringify(added));
      return added;
    },
    remove: async (mutationId) => {
      stored.delete(mutationId);
    },
  };
}

/**
 * `storage`, unless its first load fails (IndexedDB blocked in a private window, a corrupt
 * file): then an in-memory queue, and `onFallback` says so once. Writes keep working for the
 * session instead of the client failing to start; they only do not survive a reload.
 */
export function withMemoryFallback(
  storage: OutboxStorage,
  onFallback: (error: unknown) => void,
): OutboxStorage {
  let active = storage;
  let loaded = false;
  return {
    load: async () => {
      if (loaded) return active.load();
      try {
        return await active.load();
      } catch (error) {
        onFallback(error);
        active = memoryOutbox();
        return await active.load();
      } finally {
        loaded = true;
      }
    },
    add: (entry) => active.add(entry),
    remove: (mutationId) => active.remove(mutationId),
  };
}
