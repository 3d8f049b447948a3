/**
 * Hocuspocus 3.4.4 as the benchmark's peer system: its server in a process of its own, the
 * clients `HocuspocusProvider`s over `ws` in the bench process.
 */
import {
  HocuspocusProvider,
  HocuspocusProviderWebsocket,
} from "@hocuspocus/provider";
import WebSocket from "ws";
import * as Y from "yjs";

import type { Peer } from "./keystrokes";
import type { BenchSystem } from "./system";
import { startServerProcess } from "../test/support/processes";

export async function startHocuspocus(
  databaseUrl: string,
): Promise<BenchSystem> {
  const server = await startServerProcess({
    dir: "packages/collab-editor",
    args: ["bench/hocuspocus-server.ts", databaseUrl],
    readyLine: /^listening (\d+)$/,
  });
  const url = `ws://127.0.0.1:${server.ready[1]}`;
  return {
    name: "Hocuspocus 3.4.4",
    serverPids: [server.pid],
    newDocument: async () => `bench-${crypto.randomUUID()}`,
    connect: (document) => connect(url, document),
    stop: () => server.stop(),
  };
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
