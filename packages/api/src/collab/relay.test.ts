import { describe, expect, it } from "vitest";

import type { RelayedDocUpdate } from "@repo/schema";
import { waitFor } from "@repo/test-support";

import type { LogFeedHandlers } from "./log-feed";
import type { FollowOptions } from "./relay";
import { sseSink } from "./follow-http";
import { DocRelay } from "./relay";

const FIELD = "issues.description" as const;
const ROW = "00000000-0000-4000-8000-000000000001";
const update = (id: number, clientId = "c"): RelayedDocUpdate => ({
  id: String(id),
  clientId,
  update: "AA==",
});
const event = (relayed: RelayedDocUpdate) =>
  `data: ${JSON.stringify(relayed)}\n\n`;

/**
 * A follower whose sink keeps what was written (its `ready` events apart); `unread` is what it
 * reports as unread.
 */
function start(relay: DocRelay, options: Partial<FollowOptions> = {}) {
  const sink = {
    writes: [] as string[],
    ready: [] as string[],
    ended: false,
    unread: 0,
  };
  const stop = relay.follow(
    FIELD,
    ROW,
    sseSink(
      (text) => {
        if (text.startsWith("event: ready\n")) sink.ready.push(text);
        else sink.writes.push(text);
        return sink.unread;
      },
      () => {
        sink.ended = true;
      },
    ),
    {
      clientId: undefined,
      maxBufferedBytes: 1_000,
      pingMs: 60_000,
      recheckMs: 60_000,
      mayRead: () => Promise.resolve(true),
      ...options,
    },
  );
  return { sink, stop };
}

describe("DocRelay", () => {
  it("writes each published transaction in order as one write, and only its document's", () => {
    const relay = new DocRelay();
    const { sink, stop } = start(relay);
    relay.publish(FIELD, "00000000-0000-4000-8000-000000000002", [update(9)]);
    relay.publish(FIELD, ROW, [update(1), update(2)]);
    relay.publish(FIELD, ROW, [update(3)]);
    expect(sink.writes).toEqual([
      event(update(1)) + event(update(2)),
      event(update(3)),
    ]);
    stop();
    relay.publish(FIELD, ROW, [update(4)]);
    expect(sink.writes).toHaveLength(2);
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });

  it("does not send a follower its own client's updates", () => {
    const relay = new DocRelay();
    const own = start(relay, { clientId: "mine" });
    const other = start(relay);
    relay.publish(FIELD, ROW, [update(1, "mine"), update(2, "theirs")]);
    relay.publish(FIELD, ROW, [update(3, "mine")]);
    expect(own.sink.writes).toEqual([event(update(2, "theirs"))]);
    expect(other.sink.writes).toEqual([
      event(update(1, "mine")) + event(update(2, "theirs")),
      event(update(3, "mine")),
    ]);
  });

  it("ends a follower that leaves too much unread instead of buffering without bound", () => {
    const relay = new DocRelay();
    const { sink } = start(relay, { maxBufferedBytes: 100 });
    relay.publish(FIELD, ROW, [update(1)]);
    expect(sink.ended).toBe(false);
    sink.unread = 101;
    relay.publish(FIELD, ROW, [update(2)]);
    expect(sink.ended).toBe(true);
    expect(sink.writes.at(-1)).toBe(
      `event: end\ndata: {"reason":"overflow"}\n\n`,
    );
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });

  it("ends a follower who may no longer read the document at the next check, and pings meanwhile", async () => {
    const relay = new DocRelay();
    let member = true;
    const { sink } = start(relay, {
      pingMs: 10,
      recheckMs: 10,
      mayRead: () => Promise.resolve(member),
    });
    await waitFor(() => sink.writes.includes("event: ping\ndata: {}\n\n"));
    expect(sink.ended).toBe(false);
    member = false;
    await waitFor(() => sink.ended);
    expect(sink.writes.at(-1)).toBe(
      `event: end\ndata: {"reason":"revoked"}\n\n`,
    );
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
  });

  it("says it is not complete at once when it has no feed", () => {
    const { sink } = start(new DocRelay());
    expect(sink.ready).toEqual([
      `event: ready\ndata: {"complete":false,"pingMs":60000}\n\n`,
    ]);
  });
});

describe("DocRelay with a feed of the log", () => {
  /** A feed the test drives: `feeds` holds each one started, with its handlers. */
  function fakeFeed() {
    const feeds: { handlers: LogFeedHandlers; stopped: boolean }[] = [];
    const relay = new DocRelay((_key, _rowId, handlers) => {
      const feed = { handlers, stopped: false };
      feeds.push(feed);
      return { stop: () => (feed.stopped = true) };
    });
    return { relay, feeds };
  }

  it("says it is complete only once the feed is live, and starts one feed per document", () => {
    const { relay, feeds } = fakeFeed();
    const first = start(relay);
    const second = start(relay);
    expect(feeds).toHaveLength(1);
    expect(first.sink.ready).toEqual([]);
    feeds[0]?.handlers.onLive();
    const ready = `event: ready\ndata: {"complete":true,"pingMs":60000}\n\n`;
    expect(first.sink.ready).toEqual([ready]);
    expect(second.sink.ready).toEqual([ready]);
    expect(start(relay).sink.ready).toEqual([ready]);
  });

  it("delivers what commits here and what the feed brings, as each comes", () => {
    const { relay, feeds } = fakeFeed();
    const { sink } = start(relay);
    const feed = feeds[0]?.handlers;
    feed?.onLive();
    relay.publish(FIELD, ROW, [update(1)]);
    feed?.onRows([update(2)]);
    relay.publish(FIELD, ROW, [update(3)]);
    expect(sink.writes).toEqual([
      event(update(1)),
      event(update(2)),
      event(update(3)),
    ]);
  });

  it("ends every follower when the feed loses its place, and the next follow starts a new feed", () => {
    const { relay, feeds } = fakeFeed();
    const a = start(relay);
    const b = start(relay);
    feeds[0]?.handlers.onLive();
    feeds[0]?.handlers.onLost(new Error("must-refetch"));
    const lost = `event: end\ndata: {"reason":"lost"}\n\n`;
    expect([a.sink.ended, b.sink.ended]).toEqual([true, true]);
    expect(a.sink.writes.at(-1)).toBe(lost);
    expect(feeds[0]?.stopped).toBe(true);
    expect(relay.followerCount(FIELD, ROW)).toBe(0);
    const c = start(relay);
    expect(feeds).toHaveLength(2);
    expect(c.sink.ready).toEqual([]);
  });

  it("stops the feed when the document's last follower leaves", () => {
    const { relay, feeds } = fakeFeed();
    const a = start(relay);
    const b = start(relay);
    a.stop();
    expect(feeds[0]?.stopped).toBe(false);
    b.stop();
    expect(feeds[0]?.stopped).toBe(true);
  });
});
