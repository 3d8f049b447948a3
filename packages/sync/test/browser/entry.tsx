/** Browser entry of the test page: the runtime with the IndexedDB outbox, shared by tabs. */
import { createTRPCClient, httpLink } from "@trpc/client";
import { hydrateRoot } from "react-dom/client";
import superjson from "superjson";

import { mutationsByName } from "@repo/mutations";

import type { BoardProps } from "./board";
import { browserTabs, createSyncClient, trpcTransport } from "../../src";
import { indexedDbOutbox } from "../../src/outbox/indexeddb";
import { SyncProvider } from "../../src/react";
import { Board } from "./board";

interface Boot extends BoardProps {
  userId: string;
  token: string;
}

const boot = superjson.parse<Boot>(
  document.getElementById("boot")?.textContent ?? "{}",
);
const trpc = createTRPCClient({
  links: [
    httpLink({
      url: "/api/trpc",
      transformer: superjson,
      headers: { authorization: `Bearer ${boot.token}` },
    }),
  ],
});
const outbox = `outbox-${boot.userId}`;
const client = createSyncClient({
  mutations: mutationsByName,
  transport: trpcTransport(trpc),
  actor: { userId: boot.userId },
  shapeUrl: `${location.origin}/api/shape`,
  storage: indexedDbOutbox(outbox),
  tabs: browserTabs(outbox),
  retry: { initialMs: 100, maxMs: 400 },
});
const root = document.getElementById("root");
if (root)
  hydrateRoot(
    root,
    <SyncProvider client={client}>
      <Board projectId={boot.projectId} initial={boot.initial} />
    </SyncProvider>,
  );
