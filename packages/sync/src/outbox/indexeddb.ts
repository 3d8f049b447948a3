/**
 * `@repo/sync/indexeddb`: the outbox in the browser's IndexedDB, shared by every tab of the
 * profile. The whole queue is one value updated in one readwrite transaction (idb-keyval's
 * `update`), so assigning a mutation id and storing the entry are atomic across tabs: IndexedDB
 * runs readwrite transactions on one store one after another.
 */
import { createStore, get, update } from "idb-keyval";

import type { OutboxEntry } from "../types";
import type { OutboxSnapshot, OutboxStorage } from "./storage";
import {
  decodeSnapshot,
  encodeSnapshot,
  newSnapshot,
  withEntry,
  withoutEntry,
} from "./storage";

const KEY = "queue";

/**
 * @param name one outbox per signed-in user (the api refuses a client id of another user), e.g.
 *   `outbox-${userId}`.
 */
export function indexedDbOutbox(name: string): OutboxStorage {
  const store = createStore(`sync-${name}`, "outbox");
  const read = (text: string | undefined) =>
    text === undefined ? newSnapshot() : decodeSnapshot(text);

  return {
    load: async () => {
      const stored = await get<string>(KEY, store);
      if (stored !== undefined) return decodeSnapshot(stored);
      // First use: agree on one client id even if two tabs start at once.
      let snapshot: OutboxSnapshot | undefined;
      await update<string>(
        KEY,
        (text) => {
          snapshot = read(text);
          return encodeSnapshot(snapshot);
        },
        store,
      );
      return snapshot ?? newSnapshot();
    },
    add: async (entry) => {
      let added: OutboxEntry | undefined;
      await update<string>(
        KEY,
        (text) => {
          const next = withEntry(read(text), entry);
          added = next.entry;
          return encodeSnapshot(next.snapshot);
        },
        store,
      );
      if (!added) throw new Error("outbox: the entry was not stored");
      return added;
    },
    remove: (mutationId) =>
      update<string>(
        KEY,
        (text) => encodeSnapshot(withoutEntry(read(text), mutationId)),
        store,
      ),
  };
}
