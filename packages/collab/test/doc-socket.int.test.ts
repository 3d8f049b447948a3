/**
 * The collaborative-field socket on the real stack: what it refuses (at the upgrade and per
 * call), that a replay writes once, that calls in flight together keep their order, and that
 * providers on it converge with providers over HTTP across an api restart, losing nothing.
 */
import { afterAll, describe, expect } from "vitest";
import { WebSocket } from "ws";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import type { ServerFrame } from "@repo/schema";
import type { MutationTransport } from "@repo/sync";
import { apiTest } from "@repo/api/testing";
import {
  decodeServerFrame,
  DOC_LIMITS,
  DOC_SOCKET_PATH,
  DOC_TEXT_NAME,
  encodeCall,
} from "@repo/schema";
import { classifyFailure } from "@repo/sync";
import { waitFor } from "@repo/test-support";

import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

let stack: CollabStack;
let project: CollabProject;

apiTest.beforeAll(async ({ db, database }) => {
  project = await createCollabProject(db);
  stack = await startCollabStack(database);
});
afterAll(() => stack.stop());

const FIELD = "issues.description";

/** A raw socket client: the frames it got, and its close. */
async function rawSocket(
  user: TestUser | null,
  query: { rowId: string; clientId?: string; field?: string },
  headers: Record<string, string> = {},
) {
  const url = new URL(
    `${stack.apiUrl.replace("http", "ws")}${DOC_SOCKET_PATH}`,
  );
  url.searchParams.set("field", query.field ?? FIELD);
  url.searchParams.set("row", query.rowId);
  url.searchParams.set("client", query.clientId ?? crypto.randomUUID());
  const socket = new WebSocket(url, {
    headers: {
      ...(user && { authorization: `Bearer ${user.token}` }),
      ...headers,
    },
  });
  const frames: ServerFrame[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) =>
      resolve({ code, reason: reason.toString() }),
    ),
  );
  const refused = new Promise<number>((resolve) =>
    socket.on("unexpected-response", (_req, res) => {
      resolve(res.statusCode ?? 0);
      socket.terminate();
    }),
  );
  socket.on("error", () => undefined);
  socket.on("message", (data: Buffer) => {
    const frame = decodeServerFrame(new Uint8Array(data));
    if (frame) frames.push(frame);
  });
  const opened = await Promise.race([
    new Promise<true>((resolve) => socket.on("open", () => resolve(true))),
    refused,
  ]);
  const answerTo = async (mutationId: number): Promise<ServerFrame> => {
    const find = () =>
      frames.find(
        (frame) =>
          (frame.kind === "answer" || frame.kind === "refused") &&
          frame.mutationId === mutationId,
      );
    await waitFor(() => find() !== undefined);
    const found = find();
    if (!found) throw new Error(`no answer to ${mutationId}`);
    return found;
  };
  return { socket, frames, opened, closed, answerTo };
}

/** A text update: `text` inserted at the start of a fresh document of `clientId`'s. */
function textUpdate(doc: Y.Doc, text: string): Uint8Array {
  let update: Uint8Array = new Uint8Array();
  const listener = (u: Uint8Array) => (update = u);
  doc.on("update", listener);
  doc.getText(DOC_TEXT_NAME).insert(0, text);
  doc.off("update", listener);
  return update;
}

const rowsOf = async (
  db: {
    $queryRawUnsafe: (sql: string, ...values: unknown[]) => Promise<unknown>;
  },
  rowId: string,
) =>
  (await db.$queryRawUnsafe(
    `SELECT count(*)::int AS n FROM doc_updates WHERE row_id = $1::uuid`,
    rowId,
  )) as [{ n: number }];

describe("the doc socket", () => {
  apiTest(
    "refuses a foreign origin's upgrade (403), and closes a socket without a session (4401), with a bad query (4400) or for a row the user may not read (4404)",
    async () => {
      const rowId = await project.newIssue("private");
      const closedWith = async (...args: Parameters<typeof rawSocket>) =>
        (await (await rawSocket(...args)).closed).code;
      expect(
        (
          await rawSocket(
            project.member,
            { rowId },
            { origin: "https://evil.example" },
          )
        ).opened,
      ).toBe(403);
      expect(await closedWith(null, { rowId })).toBe(4401);
      expect(await closedWith(project.member, { rowId, clientId: "me" })).toBe(
        4400,
      );
      expect(
        await closedWith(project.member, { rowId, field: "issues.title" }),
      ).toBe(4400);
      expect(await closedWith(project.outsider, { rowId })).toBe(4404);
      expect(
        await closedWith(project.member, { rowId: crypto.randomUUID() }),
      ).toBe(4404);
    },
  );

  apiTest(
    "refuses malformed, oversized and a viewer's calls, writes a replay once, and the document stays loadable",
    async ({ db }) => {
      const rowId = await project.newIssue("");
      const member = await rawSocket(project.member, { rowId });
      expect(member.opened).toBe(true);
      const doc = new Y.Doc();
      const garbage = Uint8Array.of(0xff, 0x01, 0x02, 0x03);
      member.socket.send(
        encodeCall({ mutationId: 1, at: Date.now(), update: garbage }),
      );
      const refusedGarbage = await member.answerTo(1);
      expect(refusedGarbage.kind).toBe("refused");
      // Truncated: a real update cut short.
      const real = textUpdate(doc, "kept");
      member.socket.send(
        encodeCall({ mutationId: 2, at: Date.now(), update: real.slice(0, 5) }),
      );
      expect((await member.answerTo(2)).kind).toBe("refused");
      member.socket.send(
        encodeCall({
          mutationId: 3,
          at: Date.now(),
          update: new Uint8Array(DOC_LIMITS.updateBytes + 1),
        }),
      );
      const oversized = await member.answerTo(3);
      expect(oversized.kind === "refused" && oversized.error.data.code).toBe(
        "BAD_REQUEST",
      );
      // A good call, then the same mutation id again: one row, the same answer.
      const at = Date.now();
      member.socket.send(encodeCall({ mutationId: 4, at, update: real }));
      const first = await member.answerTo(4);
      member.socket.send(encodeCall({ mutationId: 4, at, update: real }));
      await waitFor(
        () =>
          member.frames.filter(
            (frame) => frame.kind === "answer" && frame.mutationId === 4,
          ).length === 2,
      );
      const answers = member.frames.filter(
        (frame) => frame.kind === "answer" && frame.mutationId === 4,
      );
      expect(first.kind).toBe("answer");
      expect(answers[1]).toEqual(answers[0]);
      expect((await rowsOf(db, rowId))[0].n).toBe(1);
      // Each refusal is classified as the HTTP path's would be.
      if (refusedGarbage.kind !== "refused") throw new Error("not refused");
      expect(classifyFailure({ ...refusedGarbage.error })).toMatchObject({
        kind: "rejected",
        code: "BAD_REQUEST",
      });

      const viewer = await rawSocket(project.viewer, { rowId });
      viewer.socket.send(
        encodeCall({
          mutationId: 1,
          at: Date.now(),
          update: textUpdate(new Y.Doc(), "no"),
        }),
      );
      const forbidden = await viewer.answerTo(1);
      expect(forbidden.kind === "refused" && forbidden.error.data.code).toBe(
        "FORBIDDEN",
      );
      expect((await rowsOf(db, rowId))[0].n).toBe(1);

      // A text frame, or bytes that are no call: the socket is closed, nothing written.
      member.socket.send("hello");
      expect((await member.closed).code).toBe(1003);
      const other = await rawSocket(project.member, { rowId });
      other.socket.send(Uint8Array.of(1, 2));
      expect((await other.closed).code).toBe(1003);
      // Far over the limit: ws closes before reading it all.
      const huge = await rawSocket(project.member, { rowId });
      huge.socket.send(new Uint8Array(DOC_LIMITS.updateBytes * 2));
      expect((await huge.closed).code).toBe(1009);

      const reader = stack.provider(project.owner, rowId);
      await reader.whenSynced();
      expect(reader.text.toJSON()).toBe("kept");
      for (const socket of [viewer]) socket.socket.close();
    },
  );

  apiTest(
    "calls sent together are written in order, each building on the last",
    async ({ db }) => {
      const rowId = await project.newIssue("");
      const writer = await rawSocket(project.member, { rowId });
      const doc = new Y.Doc();
      const text = doc.getText(DOC_TEXT_NAME);
      const updates: Uint8Array[] = [];
      doc.on("update", (update: Uint8Array) => updates.push(update));
      for (let i = 0; i < 60; i++) text.insert(text.length, String(i % 10));
      // All 60 at once: each depends on the one before, so any reordering would be refused.
      for (const [index, update] of updates.entries())
        writer.socket.send(
          encodeCall({ mutationId: index + 1, at: Date.now(), update }),
        );
      await writer.answerTo(60);
      const answered = writer.frames.flatMap((frame) =>
        frame.kind === "answer" ? [frame.mutationId] : [],
      );
      expect(answered).toEqual(updates.map((_, index) => index + 1));
      expect((await rowsOf(db, rowId))[0].n).toBe(60);
      const reader = stack.provider(project.owner, rowId);
      await reader.whenSynced();
      expect(reader.text.toJSON()).toBe(text.toJSON());
      writer.socket.close();
    },
  );

  apiTest(
    "providers on sockets and over HTTP converge, with calls in flight together, across an api restart",
    async () => {
      const rowId = await project.newIssue("");
      // Counts the calls in flight at once.
      let inFlight = 0;
      let most = 0;
      const counting =
        (transport: MutationTransport): MutationTransport =>
        async (request) => {
          most = Math.max(most, ++inFlight);
          try {
            return await transport(request);
          } finally {
            inFlight--;
          }
        };
      const a = stack.provider(project.member, rowId, {
        socket: true,
        wrapTransport: counting,
      });
      const b = stack.provider(project.owner, rowId, { socket: true });
      const c = stack.provider(project.owner, rowId);
      await Promise.all([a.whenSynced(), b.whenSynced(), c.whenSynced()]);
      const typing = async (
        provider: typeof a,
        letter: string,
        count: number,
      ) => {
        for (let i = 0; i < count; i++) {
          provider.text.insert(provider.text.length, letter);
          if (i % 4 === 0)
            await new Promise((resolve) => setTimeout(resolve, 1));
        }
      };
      await Promise.all([
        typing(a, "a", 80),
        typing(b, "b", 40),
        typing(c, "c", 40),
      ]);
      // The api goes away while calls are in flight: sockets close, calls go again.
      await Promise.all([
        typing(a, "A", 40),
        typing(b, "B", 20),
        stack.restartApi(),
      ]);
      await waitFor(
        () =>
          a.status === "synced" &&
          b.status === "synced" &&
          c.status === "synced" &&
          new Set([a, b, c].map((p) => p.text.toJSON())).size === 1,
        {
          timeoutMs: 20_000,
          describe: () =>
            JSON.stringify([a, b, c].map((p) => [p.status, p.text.toJSON()])),
        },
      );
      const final = a.text.toJSON();
      for (const [letter, count] of [
        ["a", 80],
        ["b", 40],
        ["c", 40],
        ["A", 40],
        ["B", 20],
      ] as const)
        expect(final.split(letter).length - 1).toBe(count);
      expect(most).toBeGreaterThan(1);
      // Compacted, the projection is the text every client shows.
      const fresh = stack.provider(project.viewer, rowId);
      await fresh.whenSynced();
      expect(fresh.text.toJSON()).toBe(final);
    },
  );
});
