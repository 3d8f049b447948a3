/**
 * The server process takes the collaborative-field socket's upgrades at `DOC_SOCKET_PATH`
 * (and no others): a signed-in member's call is committed and answered with its txid.
 */
import { expect } from "vitest";
import { WebSocket } from "ws";
import * as Y from "yjs";

import type { ServerFrame } from "@repo/schema";
import { createUser, mutate, newId, tick } from "@repo/api/testing";
import {
  decodeServerFrame,
  DOC_SOCKET_PATH,
  DOC_TEXT_NAME,
  encodeCall,
} from "@repo/schema";

import { serverTest } from "./support/fixture";

/**
 * Opens a socket at `url`; resolves with its first frame (after `ready`, the answer to `send`),
 * or how it was refused (an HTTP status, or a close code).
 */
function firstFrame(
  url: string,
  headers: Record<string, string>,
  send?: Uint8Array,
): Promise<ServerFrame | { refused: number } | { failed: string }> {
  return new Promise((resolve) => {
    const socket = new WebSocket(url, { headers });
    socket.on("open", () => {
      if (send) socket.send(send);
    });
    socket.on("message", (data: Buffer) => {
      const frame = decodeServerFrame(new Uint8Array(data));
      // The relay's ready comes first; wait for the call's answer when there is a call.
      if (send && frame?.kind === "ready") return;
      socket.close();
      resolve(frame ?? { failed: "malformed frame" });
    });
    socket.on("unexpected-response", (_req, res) => {
      socket.terminate();
      resolve({ refused: res.statusCode ?? 0 });
    });
    socket.on("close", (code) => resolve({ refused: code }));
    socket.on("error", (error) => resolve({ failed: error.message }));
  });
}

serverTest(
  "answers a member's call over the socket with its txid, and refuses upgrades elsewhere or without a session",
  async ({ db, server }) => {
    const owner = await createUser(db, "Owner");
    const projectId = newId();
    await mutate(owner, "projects.create", {
      id: projectId,
      ownerMemberId: newId(),
      name: "Socket",
      at: tick(),
    });
    const rowId = newId();
    await mutate(owner, "issues.create", {
      id: rowId,
      projectId,
      title: "Issue",
      sortKey: "a0",
      at: tick(),
    });
    const base = `${server.url.replace("http", "ws")}`;
    const query = `?field=issues.description&row=${rowId}&client=${newId()}`;
    const auth = { authorization: `Bearer ${owner.token}` };
    const doc = new Y.Doc();
    let update = new Uint8Array();
    doc.on("update", (u: Uint8Array) => (update = new Uint8Array(u)));
    doc.getText(DOC_TEXT_NAME).insert(0, "over the socket");

    const answer = await firstFrame(
      `${base}${DOC_SOCKET_PATH}${query}`,
      auth,
      encodeCall({ mutationId: 1, at: Date.now(), update }),
    );
    expect(answer).toMatchObject({ kind: "answer", mutationId: 1 });
    const rows = await db.$queryRaw<{ n: number }[]>`
      SELECT count(*)::int AS n FROM doc_updates WHERE row_id = ${rowId}::uuid`;
    expect(rows[0]?.n).toBe(1);

    expect(await firstFrame(`${base}${DOC_SOCKET_PATH}${query}`, {})).toEqual({
      refused: 4401,
    });
    expect(await firstFrame(`${base}/elsewhere${query}`, auth)).toHaveProperty(
      "failed",
    );
  },
);
