/** A client of Hocuspocus 3.4.4 in a bench client process: a `HocuspocusProvider` over `ws`. */
import {
  HocuspocusProvider,
  HocuspocusProviderWebsocket,
} from "@hocuspocus/provider";
import WebSocket from "ws";
import * as Y from "yjs";

import type { Peer } from "./peer";

export async function connectHocuspocus(
  url: string,
  name: string,
  count: number,
): Promise<Peer[]> {
  const peers: Peer[] = [];
  for (let i = 0; i < count; i++) peers.push(await connect(url, name));
  return peers;
}

function connect(url: string, name: string): Promise<Peer> {
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
