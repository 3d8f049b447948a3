/**
 * A follower whose stream lacks a presence row's insert (seen in the browser tests: A followed
 * the presence shape, B's row was fresh in Postgres, and A never showed B) still shows that tab
 * at its next update. Changed-columns updates (the protocol's default) could not build the row
 * (no `field`, `row_id`, `user_id`), and the binding skipped it for good; whole-row updates
 * (`replica=full`) can. The missed insert is made here by dropping it from the live responses.
 */
import { afterAll, expect } from "vitest";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import type { TestUser } from "@repo/api/testing";
import { apiTest } from "@repo/api/testing";

import type { PresenceStack } from "./support/stack";
import { untilAwareness } from "./support/awareness";
import { startPresenceStack } from "./support/stack";
import { bindTab } from "./support/tab";

let stack: PresenceStack | undefined;
afterAll(() => stack?.stop());

/** Live responses without their inserts. */
const withoutLiveInserts: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (url.searchParams.get("live") !== "true" || !response.ok) return response;
  const messages = (await response.json()) as {
    headers?: { operation?: string };
  }[];
  return new Response(
    JSON.stringify(
      messages.filter((message) => message.headers?.operation !== "insert"),
    ),
    { status: response.status, headers: response.headers },
  );
};

apiTest(
  "a tab whose row's insert a follower missed shows there with the row's next update",
  async ({ database, db }) => {
    const s = (stack = await startPresenceStack(database, db));
    const [alice, bob] = s.writers as [TestUser, TestUser];
    const doc = new Y.Doc();
    const bobDoc = new Y.Doc();
    const aliceAwareness = new Awareness(doc);
    const bobAwareness = new Awareness(bobDoc);
    const a = bindTab(s, alice, aliceAwareness, withoutLiveInserts);
    // Alice follows from before Bob's row exists: its insert reaches her live, and is dropped.
    await expect.poll(() => db.presence.count(), { timeout: 10_000 }).toBe(1);
    const b = bindTab(s, bob, bobAwareness);
    try {
      await expect.poll(() => db.presence.count(), { timeout: 10_000 }).toBe(2);
      bobAwareness.setLocalStateField("cursor", {
        anchor: Y.createRelativePositionFromTypeIndex(
          bobDoc.getText("text"),
          0,
        ),
        head: Y.createRelativePositionFromTypeIndex(bobDoc.getText("text"), 0),
      });
      await untilAwareness(aliceAwareness, () =>
        aliceAwareness.getStates().has(bobDoc.clientID),
      );
    } finally {
      await a.destroy();
      await b.destroy();
      aliceAwareness.destroy();
      bobAwareness.destroy();
    }
  },
);
