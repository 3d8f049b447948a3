/**
 * Awareness between two editors on the real stack: a cursor set in one tab's awareness goes
 * through `presence.update` (api over HTTP → Postgres) and the sync server's presence shape
 * into the other tab's awareness, where it resolves to the same text position; a tab that
 * leaves disappears from the other.
 */
import { afterAll, expect } from "vitest";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import { apiTest } from "@repo/api/testing";
import { presenceUser } from "@repo/schema";

import type { PresenceStack } from "./support/stack";
import { untilAwareness } from "./support/awareness";
import { startPresenceStack } from "./support/stack";
import { bindTab } from "./support/tab";

let stack: PresenceStack | undefined;
afterAll(() => stack?.stop());

function tab(s: PresenceStack, user: TestUser, doc: Y.Doc) {
  const awareness = new Awareness(doc);
  return { awareness, binding: bindTab(s, user, awareness) };
}

apiTest(
  "a cursor set in one tab arrives in the other at the same text position, with the writer's name; leaving removes it",
  async ({ database, db }) => {
    const s = (stack = await startPresenceStack(database, db));
    const [alice, bob] = s.writers as [TestUser, TestUser];
    const aliceDoc = new Y.Doc();
    aliceDoc.getText("text").insert(0, "hello world");
    const bobDoc = new Y.Doc();
    Y.applyUpdate(bobDoc, Y.encodeStateAsUpdate(aliceDoc));
    const a = tab(s, alice, aliceDoc);
    const b = tab(s, bob, bobDoc);
    try {
      const text = aliceDoc.getText("text");
      a.awareness.setLocalStateField("cursor", {
        anchor: Y.createRelativePositionFromTypeIndex(text, 6),
        head: Y.createRelativePositionFromTypeIndex(text, 11),
      });
      const remote = () =>
        b.awareness.getStates().get(aliceDoc.clientID) as
          | { user: unknown; cursor: { anchor: unknown; head: unknown } | null }
          | undefined;
      await untilAwareness(b.awareness, () => remote()?.cursor != null);
      const state = remote();
      const at = (position: unknown) =>
        Y.createAbsolutePositionFromRelativePosition(
          position as Y.RelativePosition,
          bobDoc,
        )?.index;
      expect([at(state?.cursor?.anchor), at(state?.cursor?.head)]).toEqual([
        6, 11,
      ]);
      expect(state?.user).toEqual(
        presenceUser({ id: alice.id, name: alice.name }),
      );
      // Bob's own state made it to Alice too (a null cursor: his editor is not focused).
      await untilAwareness(a.awareness, () =>
        a.awareness.getStates().has(bobDoc.clientID),
      );

      await a.binding.destroy();
      await untilAwareness(
        b.awareness,
        () => !b.awareness.getStates().has(aliceDoc.clientID),
      );
      expect(await db.presence.count()).toBe(1);
    } finally {
      await a.binding.destroy();
      await b.binding.destroy();
      a.awareness.destroy();
      b.awareness.destroy();
    }
  },
);
