/** A client of Hocuspocus 3.4.4 in a bench client process: a `HocuspocusProvider` over `ws`. */
import {
  HocuspocusProvider,
  HocuspocusProviderWebsocket,
} from "@hocuspocus/provider";
import WebSocket from "ws";
import * as Y from "yjs";

import type { Peer } from "./peer";

/** One client on document `name`, resolved once it holds the document's updates so far. */
export function connectHocuspocus(url: string, name: string): Promise<Peer> {
  const doc = new Y.Doc();
  const websocketProvider = new HocuspocusProviderWebsocket({
    url,
    WebSocketPolyfill: WebSocket,
  });
  return new Promise((resolve) => {
    const provider = new HocuspocusProvider({
      websocketProvider,
      name,
      document: doc,
      onSynced: () =>
        resolve({
          doc,
          text: doc.getText("text"),
          close: async () => {
            provider.destroy();
            websocketProvider.destroy();
          },
        }),
    });
    provider.attach();
  });
}
