/**
 * Providers on the real stack (PostgreSQL, the sync server, the api over HTTP): edits merge,
 * survive offline periods, api restarts and compactions, and the projection ends equal to the
 * text every client shows.
 */
import { afterAll, describe, expect } from "vitest";
import * as Y from "yjs";

import type { MutationTransport } from "@repo/sync";
import { apiTest } from "@repo/api/testing";
import { waitFor } from "@repo/test-support";

import type { CollabProvider } from "../src";
import type { CollabProject } from "./support/project";
import type { CollabStack } from "./support/stack";
import { apiClient } from "./support/api-client";
import { createCollabProject } from "./support/project";
import { startCollabStack } from "./support/stack";

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

const textsOf = (providers: CollabProvider[]) =>
  providers.map((provider) => provider.text.toJSON());

describe("a provider", () => {
  apiTest(
    "loads the column's text, sends edits, and shows others' edits",
    async () => {
      const rowId = await project.newIssue("Hello");
      const a = stack.provider(project.member, rowId);
      const b = stack.provider(project.owner, rowId);
      await Promise.all([a.whenSynced(), b.whenSynced()]);
      expect(textsOf([a, b])).toEqual(["Hello", "Hello"]);
      a.text.insert(5, " world");
      b.text.insert(0, ">> ");
      await waitFor(() =>
        textsOf([a, b]).every((text) => text === ">> Hello world"),
      );
      // b's edit can reach a before a's own call is answered: synced comes with the answers.
      await Promise.all([a.whenSynced(), b.whenSynced()]);
      expect(await descriptionOf(rowId)).toBe("Hello");
      await stack.runtime().collab.compact("issues.description", rowId);
      expect(await descriptionOf(rowId)).toBe(">> Hello world");
    },
  );

  apiTest(
    "keeps edits made offline, across a reload, deletions included, and sends them back online",
    async () => {
      const rowId = await project.newIssue("one two three");
      const reader = stack.provider(project.viewer, rowId);
      const network = { offline: false };
      const offlineable =
        (transport: MutationTransport): MutationTransport =>
        (request) =>
          network.offline
            ? Promise.reject(new TypeError("fetch failed"))
            : transport(request);
      const doc = new Y.Doc();
      const before = stack.provider(project.member, rowId, {
        doc,
        wrapTransport: offlineable,
      });
      await before.whenSynced();
      network.offline = true;
      before.text.delete(3, 4); // "one three": a deletion only, no new struct
      expect(before.status).toBe("pending");
      // A reload while offline: the document survives (as y-indexeddb keeps it), the provider not.
      await before.destroy();
      const after = stack.provider(project.member, rowId, {
        doc,
        wrapTransport: offlineable,
      });
      network.offline = false;
      await after.whenSynced();
      await waitFor(() => reader.text.toJSON() === "one three");
    },
  );

  apiTest(
    "gives up a load or a send left unanswered and tries it again",
    async () => {
      const rowId = await project.newIssue("steady");
      const trpc = apiClient(stack.apiUrl, project.member.token);
      // The first load and the first send hang as on a dead connection: never answered.
      const abandoned: (AbortSignal | undefined)[] = [];
      const hang = (signal: AbortSignal | undefined) => {
        abandoned.push(signal);
        return new Promise<never>(() => undefined);
      };
      let loads = 0;
      let sends = 0;
      const a = stack.provider(project.member, rowId, {
        requestTimeoutMs: 200,
        load: (input, options) =>
          ++loads === 1
            ? hang(options.signal)
            : trpc.docs.load.query(input, options),
        wrapTransport: (transport) => (request) =>
          ++sends === 1 ? hang(request.signal) : transport(request),
      });
      await a.whenSynced();
      a.text.insert(6, " on");
      await a.whenSynced();
      // Loads: the abandoned one, its retry, and one more when the relay is ready.
      expect(loads).toBeGreaterThanOrEqual(2);
      expect(sends).toBe(2);
      expect(abandoned.map((signal) => signal?.aborted)).toEqual([true, true]);
      const b = stack.provider(project.owner, rowId);
      await b.whenSynced();
      expect(b.text.toJSON()).toBe("steady on");
    },
  );

  apiTest(
    "a viewer's edits are refused: status failed, nothing reaches others",
    async () => {
      const rowId = await project.newIssue("read only");
      const viewer = stack.provider(project.viewer, rowId);
      await viewer.whenSynced();
      viewer.text.insert(0, "no: ");
      await expect(viewer.whenSynced()).rejects.toBeDefined();
      expect(viewer.status).toBe("failed");
      const member = stack.provider(project.member, rowId);
      await member.whenSynced();
      expect(member.text.toJSON()).toBe("read only");
    },
  );
});
