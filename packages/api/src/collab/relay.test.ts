import { describe, expect, it } from "vitest";

import type { RelayedDocUpdate } from "@repo/schema";

import type { FollowOptions } from "./relay";
import {
  DocRelay,
  followDoc,
  FollowerOverflow,
  FollowerRevoked,
} from "./relay";

const FIELD = "issues.description" as const;
const ROW = "00000000-0000-4000-8000-000000000001";
const update = (id: number): RelayedDocUpdate => ({
  id: String(id),
  clientId: "c",
  update: "AA==",
});

function start(relay: DocRelay, options: Partial<FollowOptions> = {}) {
  const aborter = new AbortController();
  const follow = followDoc(relay, FIELD, ROW, {
    signal: aborter.signal,
    maxQueued: 10,
    recheckMs: 60_000,
    mayRead: () => Promise.resolve(true),
    ...options,
  });
  return { follow, abort: () => aborter.abort() };
}

describe("followDoc", () => {
  it("yields each published transaction in order, and only its document's", async () => {
    const relay = new DocRelay();
    const { follow, abort } = start(relay);
    const first = follow.next();
    relay.publish(FIELD, "00000000-0000-4000-8000-000000000002", [update(9)]);
    relay.publish(FIELD, ROW, [update(1), update(2)]);
    relay.publish(FIELD, ROW, [update(3)]);
    expect((await first).value).toEqual([update(1), update(2)]);
    expect((await follow.next()).value).toEqual([update(3)]);
    abort();
    expect((await follow.next()).done).toBe(true);
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });

  it("ends a follower that falls behind instead of queueing without bound", async () => {
    const relay = new DocRelay();
    const { follow } = start(relay, { maxQueued: 3 });
    const first = follow.next();
    for (let id = 1; id <= 10; id++) relay.publish(FIELD, ROW, [update(id)]);
    expect((await first).value).toEqual([update(1)]);
    expect((await follow.next()).value).toEqual([update(2)]);
    expect((await follow.next()).value).toEqual([update(3)]);
    await expect(follow.next()).rejects.toBeInstanceOf(FollowerOverflow);
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });

  it("ends a follower who may no longer read the document at the next check", async () => {
    const relay = new DocRelay();
    let member = true;
    const { follow } = start(relay, {
      recheckMs: 20,
      mayRead: () => Promise.resolve(member),
    });
    const first = follow.next();
    relay.publish(FIELD, ROW, [update(1)]);
    expect((await first).value).toEqual([update(1)]);
    member = false;
    await expect(follow.next()).rejects.toBeInstanceOf(FollowerRevoked);
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });
});
