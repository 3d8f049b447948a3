/** A client of the commit-first floor (floor-server.ts) in a bench client process: raw Yjs updates over `ws`. */
import WebSocket from "ws";
import * as Y from "yjs";

import type { Peer } from "./peer";

/** The origin of updates that came from the server (not sent back). */
const FROM_SERVER = Symbol("floor server");

/** One client on document `name`, resolved once it holds the document's updates so far. */
export function connectFloor(url: string, name: string): Promise<Peer> {
  const doc = new Y.Doc();
  const socket = new WebSocket(`${url}/${encodeURIComponent(name)}`);
  doc.on("update", (update: Uint8Array, origin: unknown) => {
    if (origin !== FROM_SERVER) socket.send(update);
  });
  return new Promise((resolve, reject) => {
    socket.once("error", reject);
    socket.on("message", (data: Buffer) => {
      // An empty message ends the initial sync (floor-server.ts).
      if (data.length > 0) Y.applyUpdate(doc, data, FROM_SERVER);
      else
        resolve({
          doc,
          text: doc.getText("text"),
          close: () =>
            new Promise<void>((closed) => {
              socket.once("close", () => closed());
              socket.close();
            }),
        });
    });
  });
}
