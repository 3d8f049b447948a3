/**
 * `@repo/sync/indexeddb`: the outbox in the browser's IndexedDB, shared by every tab of the
 * profile. One object store: a `meta` record (client id, last mutation id) and one record per
 * queued write, keyed so that key order is id order. Assigning an id and storing the write
 * happen in one readwrite transaction, which IndexedDB runs one after another across tabs: no
 * id is handed out twice, and no reader sees write n+1 stored without write n. A write costs
 * the same with 10 or 10,000 queued (nothing rewrites the whole queue).
 */
import type { UseStore } from "idb-keyval";
import { createStore, promisifyRequest } from "idb-keyval";
import { parse, stringify } from "superjson";

import type { OutboxEntry } from "../types";
import type { OutboxSnapshot, OutboxStorage } from "./storage";
import { newSnapshot } from "./storage";

const META = "meta";
/** All entry keys (built lazily: the module may load where IndexedDB does not exist). */
const entries = () => IDBKeyRange.bound("entry:", "entry:\uffff");
/** Zero-padded, so the store's key order is the mutation-id order. */
const entryKey = (mutationId: number) =>
  `entry:${String(mutationId).padStart(15, "0")}`;

interface Meta {
  clientId: string;
  lastMutationId: number;
}

/**
 * @param name one outbox per signed-in user (the api refuses a client id of another user), e.g.
 *   `outbox-${userId}`.
 */
export function indexedDbOutbox(name: string): OutboxStorage {
  const store: UseStore = createStore(`sync-${name}`, "outbox");

  /** The meta record, created on first use (inside the caller's transaction). */
  async function metaOf(objects: IDBObjectStore): Promise<Meta> {
    const meta = await promisifyRequest<Meta | undefined>(objects.get(META));
    if (meta) return meta;
    const { clientId, lastMutationId } = newSnapshot();
    const created = { clientId, lastMutationId };
    objects.put(created, META);
    return created;
  }

  return {
    load: () =>
      store("readwrite", async (objects): Promise<OutboxSnapshot> => {
        const meta = await metaOf(objects);
        const texts = await promisifyRequest<string[]>(
          objects.getAll(entries()),
        );
        return {
          ...meta,
          entries: texts.map((text) => parse<OutboxEntry>(text)),
        };
      }),
    add: (entry) =>
      store("readwrite", async (objects) => {
        const meta = await metaOf(objects);
        const added: OutboxEntry = {
          ...entry,
          mutationId: meta.lastMutationId + 1,
        };
        objects.put({ ...meta, lastMutationId: added.mutationId }, META);
        objects.put(stringify(added), entryKey(added.mutationId));
        // Resolve once committed: the sender must never see an id that could still roll back.
        await promisifyRequest(objects.transaction);
        return added;
      }),
    remove: (mutationId) =>
      store("readwrite", async (objects) => {
        objects.delete(entryKey(mutationId));
        await promisifyRequest(objects.transaction);
      }),
  };
}
