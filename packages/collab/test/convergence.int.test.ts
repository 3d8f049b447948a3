/**
 * The property of issue 12: N clients make random concurrent edits, with random offline
 * periods, reloads, api and sync server restarts and compactions in between; once everyone is
 * back online they all show the same text, that text is what merging every edit ever made gives
 * (no edit lost), and after a compaction the projection column holds it too. Real stack:
 * PostgreSQL, the sync server, the api over HTTP and its socket.
 */
import fc from "fast-check";
import { afterAll, expect } from "vitest";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import type { MutationTransport } from "@repo/sync";
import { apiTest } from "@repo/api/testing";
import { DOC_TEXT_NAME } from "@repo/schema";
import { waitFor } from "@repo/test-support";

import type { CollabProvider } from "../src";
import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

const CLIENTS = 3;
const EDIT = "edit";

let stack: CollabStack;
let project: CollabProject;
let descriptionOf: (rowId: string) => Promise<string>;
apiTest.beforeAll(async ({ db, database }) => {
  project = await createCollabProject(db);
  stack = await startCollabStack(database);
  descriptionOf = async (rowId) =>
    (await db.issue.findUniqueOrThrow({ where: { id: rowId } })).description;
});
afterAll(() => stack.stop());

type Command =
  | { kind: "insert"; client: number; at: number; text: string }
  | { kind: "delete"; client: number; at: number; length: number }
  | { kind: "offline" | "online" | "reload" | "settle"; client: number }
  | { kind: "compact" | "restartApi" }
  | { kind: "restartSync"; shapesKept: boolean };

const client = fc.nat({ max: CLIENTS - 1 });
const command: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      client,
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      text: fc.string({ minLength: 1, maxLength: 6 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      client,
      at: fc.double({ min: 0, max: 1, noNaN: true }),
      length: fc.integer({ min: 1, max: 5 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constantFrom(
        "offline" as const,
        "online" as const,
        "reload" as const,
        "settle" as const,
      ),
      client,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("compact" as const) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant("restartApi" as const) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("restartSync" as const),
      shapesKept: fc.boolean(),
    }),
  },
);

/** One simulated client: its document (kept across reloads), its provider and its network. */
interface Client {
  user: TestUser;
  doc: Y.Doc;
  provider: CollabProvider;
  offline: boolean;
  /** Over the api's socket rather than HTTP and SSE. */
  socket: boolean;
}

async function run(commands: Command[]): Promise<void> {
  const rowId = await project.newIssue("seed text");
  const edits: Uint8Array[] = [];
  const users = [project.member, project.owner, project.member];
  const open = (c: Omit<Client, "provider">): CollabProvider =>
    stack.provider(c.user, rowId, {
      doc: c.doc,
      socket: c.socket,
      wrapTransport:
        (transport: MutationTransport): MutationTransport =>
        (request) =>
          clients.find((other) => other.doc === c.doc)?.offline
            ? Promise.reject(new TypeError("fetch failed"))
            : transport(request),
    });
  const clients: Client[] = [];
  for (const [index, user] of users.entries()) {
    const doc = new Y.Doc();
    // Every edit a user makes, as Yjs emitted it: what "no edit lost" is checked against.
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === EDIT) edits.push(update);
    });
    // The second client writes and follows over the api's socket, the others over HTTP.
    const partial = { user, doc, offline: false, socket: index === 1 };
    clients.push({ ...partial, provider: open(partial) });
  }
  await Promise.all(clients.map((c) => c.provider.whenSynced()));
  const seed = Y.encodeStateAsUpdate(clients[0]?.doc ?? new Y.Doc());
  const compactions: Promise<unknown>[] = [];

  for (const step of commands) {
    switch (step.kind) {
      case "insert":
      case "delete": {
        const c = clients[step.client];
        if (!c) break;
        const text = c.doc.getText(DOC_TEXT_NAME);
        const at = Math.floor(step.at * text.length);
        c.doc.transact(() => {
          if (step.kind === "insert") text.insert(at, step.text);
          else text.delete(at, Math.min(step.length, text.length - at));
        }, EDIT);
        break;
      }
      case "offline":
      case "online": {
        const c = clients[step.client];
        if (c) c.offline = step.kind === "offline";
        break;
      }
      case "reload": {
        const c = clients[step.client];
        if (!c) break;
        await c.provider.destroy();
        c.provider = open(c);
        break;
      }
      case "settle": {
        const c = clients[step.client];
        if (c && !c.offline) await c.provider.whenSynced();
        break;
      }
      case "compact":
        // Not awaited: compaction runs beside the appends, as the background job does. One cut
        // short by an api restart rolls back and folds nothing.
        compactions.push(
          stack
            .runtime()
            .collab.compact("issues.description", rowId)
            .catch(() => undefined),
        );
        break;
      case "restartApi":
        await stack.restartApi();
        break;
      case "restartSync":
        await stack.restartSync({ shapesKept: step.shapesKept });
        break;
    }
  }

  for (const c of clients) c.offline = false;
  await Promise.all(compactions);
  await Promise.all(clients.map((c) => c.provider.whenSynced()));
  const merged = new Y.Doc();
  Y.applyUpdate(merged, seed);
  for (const update of edits) Y.applyUpdate(merged, update);
  const expected = merged.getText(DOC_TEXT_NAME).toJSON();
  const texts = () => clients.map((c) => c.doc.getText(DOC_TEXT_NAME).toJSON());
  await waitFor(() => texts().every((text) => text === expected), {
    timeoutMs: 30_000,
    describe: () => JSON.stringify({ expected, texts: texts() }),
  });
  await stack.runtime().collab.compact("issues.description", rowId);
  expect(await descriptionOf(rowId)).toBe(expected);
  for (const c of clients) await c.provider.destroy();
}

apiTest(
  "every client converges to the merge of every edit, and compaction projects it",
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 50 }), run),
      { numRuns: 10 },
    );
  },
);
