/**
 * The client runtime of the app: one per signed-in user and page load. In the browser it sends
 * writes through tRPC (the session cookie rides along), follows shapes through the app's
 * authorising proxy and keeps its queue in IndexedDB, shared by the user's tabs. On the server
 * it only serves the `initial` rows a page was rendered with: it follows nothing and sends
 * nothing.
 */
import type { SyncClient } from "@repo/sync";
import { mutationsByName } from "@repo/mutations";
import { browserTabs, createSyncClient, trpcTransport } from "@repo/sync";
import { indexedDbOutbox } from "@repo/sync/indexeddb";

import { SHAPES_PATH } from "./shapes";
import { trpc } from "./trpc";

export function createBrowserSyncClient(userId: string): SyncClient {
  // Per user: a queue written by one account is never replayed under another's session.
  const outbox = `tracker-outbox-${userId}`;
  return createSyncClient({
    mutations: mutationsByName,
    transport: trpcTransport(trpc),
    actor: { userId },
    shapeUrl: `${location.origin}${SHAPES_PATH}`,
    storage: indexedDbOutbox(outbox),
    tabs: browserTabs(outbox),
    // Back online quickly after a short outage; the default backoff grows to 30 s.
    retry: { initialMs: 250, maxMs: 5_000 },
    // A write takes milliseconds; one unanswered for 10 s sits on a dead connection.
    sendTimeoutMs: 10_000,
    // Every live shape holds one of the six connections a browser opens to a server over
    // HTTP/1.1 (writes need one too): a page's old shapes let go soon after it is left.
    shapeLingerMs: 200,
  });
}

export function createServerSyncClient(userId: string): SyncClient {
  return createSyncClient({
    mutations: mutationsByName,
    actor: { userId },
    shapeUrl: "unused-on-the-server",
    transport: () =>
      Promise.reject(new Error("no writes during a server render")),
  });
}
