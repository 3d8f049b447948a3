/**
 * Commit-then-relay: once a `docs.update` transaction has committed, its updates go straight to
 * the document's followers on this api process (server-sent events, follow-http.ts), instead of
 * reaching them only through logical replication, the sync server and the log's shape. Nothing
 * is relayed before COMMIT returns, so a peer never sees an edit Postgres could still lose.
 *
 * With a feed (log-feed.ts: this process reading the document's log shape from Electric,
 * without its own rows), the relay also carries what other processes and scripts commit:
 * followers are then told the relay is complete (`ready`), and need no shape of their own while
 * they follow. Without one, the relay is a shortcut and followers keep the shape, the record
 * (a client applying an update twice is a no-op in Yjs). Why in memory and not LISTEN/NOTIFY:
 * a notification carries at most 8,000 bytes and takes a database-wide lock at commit.
 *
 * Each update is encoded once per encoding (its SSE event, its socket record), and the same
 * bytes are written to every follower but its writer (who has it already): per follower a
 * relayed transaction costs one write, which is what a document with many editors needs
 * (tRPC's subscription pipeline serialised and streamed each event per follower: 20 followers
 * slowed the api's calls 2.7×, bench/README.md).
 */
import type { Db } from "@repo/db";
import type { CollabFieldKey, RelayedDocUpdate } from "@repo/schema";
import { encodeUpdateRecord } from "@repo/schema";

import type { LogFeed } from "./log-feed";
import { fromBase64 } from "./ydoc";

/**
 * Where one follower's events go, in its own encoding (SSE text for `/docs/follow`, binary
 * frames for the socket): each method returns the bytes this follower has not taken yet.
 */
export interface FollowSink {
  ready(ready: { complete: boolean; pingMs: number }): number;
  /** Committed updates of other clients, in commit order. */
  updates(updates: readonly RelayedEvent[]): number;
  ping(): number;
  /** The relay's last word before it stops following (then the sink should close). */
  end(reason: FollowEnd): void;
}

/**
 * One committed update, encoded at most once per encoding however many follow it: per
 * follower a relayed transaction then costs one write.
 */
class RelayedEvent {
  private sseText: string | undefined;
  private record: Uint8Array | undefined;

  constructor(readonly update: RelayedDocUpdate) {}

  get clientId(): string {
    return this.update.clientId;
  }

  /** Its SSE event (`data: <json>`). */
  get sse(): string {
    return (this.sseText ??= `data: ${JSON.stringify(this.update)}\n\n`);
  }

  /** Its record in a socket's `updates` frame. */
  get socketRecord(): Uint8Array {
    return (this.record ??= encodeUpdateRecord({
      id: this.update.id,
      clientId: this.update.clientId,
      update: fromBase64(this.update.update),
    }));
  }
}

export interface FollowOptions {
  /** The follower's mutation client id: its own updates are not sent back. */
  clientId: string | undefined;
  /** Bytes a follower may leave unread; beyond, its stream ends (it follows again). */
  maxBufferedBytes: number;
  /** A comment this often keeps proxies from closing a quiet stream. */
  pingMs: number;
  /** How often the follower's access is checked again (a member removed stops receiving). */
  recheckMs: number;
  /** False when the follower may no longer read the document. */
  mayRead: () => Promise<boolean>;
}

/**
 * Why the relay ended a stream: the last event it writes (`event: end`). `lost`: the feed lost
 * its place, and the follower must load again.
 */
type FollowEnd = "overflow" | "revoked" | "lost";

type Follower = (events: readonly RelayedEvent[] | "lost") => void;

/** One document followed on this process. */
interface Followed {
  followers: Set<Follower>;
  /** Followers waiting for the feed to be live before their `ready`. */
  waiting: Set<() => void>;
  feed: { stop: () => void } | null;
  live: boolean;
}

export class DocRelay {
  private readonly documents = new Map<string, Followed>();

  /**
   * `feed`: reads each followed document's log from Electric, so that the relay also carries
   * what other processes commit (`ready` then says `complete: true`). Without it the relay
   * carries this process' commits only and followers keep their shape.
   */
  constructor(private readonly feed?: LogFeed) {}

  /**
   * Streams the document's committed updates into `sink` until the returned stop is called,
   * the follower falls `maxBufferedBytes` behind or loses access (then `event: end`, and the
   * sink ends). First comes `event: ready` (`{ complete }`): from then on every update
   * committed is sent (with a feed), so a follower that loads by state vector after it has
   * the document and needs nothing else.
   */
  follow(
    key: CollabFieldKey,
    rowId: string,
    sink: FollowSink,
    options: FollowOptions,
  ): () => void {
    const id = relayKey(key, rowId);
    const followed = this.documents.get(id) ?? this.startFollowing(key, rowId);
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      followed.followers.delete(follower);
      followed.waiting.delete(ready);
      if (
        followed.followers.size === 0 &&
        this.documents.get(id) === followed
      ) {
        followed.feed?.stop();
        this.documents.delete(id);
      }
    };
    const end = (reason: FollowEnd) => {
      if (stopped) return;
      stop();
      sink.end(reason);
    };
    const follower: Follower = (events) => {
      if (events === "lost") return end("lost");
      const others = events.filter(
        (event) => event.clientId !== options.clientId,
      );
      if (others.length > 0 && sink.updates(others) > options.maxBufferedBytes)
        end("overflow");
    };
    // A ping (an event, not a comment, so that a client sees it) at least this often: a
    // follower that hears nothing for longer knows its connection died without closing.
    const pingMs = Math.min(options.pingMs, options.recheckMs);
    const ready = () =>
      sink.ready({ complete: this.feed !== undefined, pingMs });
    followed.followers.add(follower);
    if (!this.feed || followed.live) ready();
    else followed.waiting.add(ready);
    let recheckAt = Date.now() + options.recheckMs;
    const timer = setInterval(() => {
      if (sink.ping() > options.maxBufferedBytes) return end("overflow");
      if (Date.now() < recheckAt) return;
      recheckAt = Date.now() + options.recheckMs;
      options.mayRead().then(
        (may) => {
          if (!may) end("revoked");
        },
        // The database is away: keep the stream; the next round asks again.
        () => undefined,
      );
    }, pingMs);
    // The timer alone must not keep a process alive that is otherwise done.
    timer.unref();
    return stop;
  }

  /** Hands committed updates to the document's followers (call only after COMMIT). */
  publish(
    key: CollabFieldKey,
    rowId: string,
    updates: readonly RelayedDocUpdate[],
  ): void {
    const followed = this.documents.get(relayKey(key, rowId));
    if (followed) deliver(followed, updates);
  }

  /** Open follows of one document (for tests). */
  followerCount(key: CollabFieldKey, rowId: string): number {
    return this.documents.get(relayKey(key, rowId))?.followers.size ?? 0;
  }

  private startFollowing(key: CollabFieldKey, rowId: string): Followed {
    const followed: Followed = {
      followers: new Set(),
      waiting: new Set(),
      feed: null,
      live: false,
    };
    this.documents.set(relayKey(key, rowId), followed);
    followed.feed =
      this.feed?.(key, rowId, {
        onLive: () => {
          followed.live = true;
          for (const ready of followed.waiting) ready();
          followed.waiting.clear();
        },
        onRows: (rows) => deliver(followed, rows),
        // Rows may be missing: every follower's stream ends (it follows again and loads, its
        // shape filling in meanwhile), and with the last the feed stops; the next follow
        // starts a new one.
        onLost: () => {
          followed.live = false;
          for (const follower of [...followed.followers]) follower("lost");
        },
      }) ?? null;
    return followed;
  }
}

/** Writes the updates to every follower (each skips its own client's). */
function deliver(followed: Followed, updates: readonly RelayedDocUpdate[]) {
  if (updates.length === 0) return;
  const events = updates.map((update) => new RelayedEvent(update));
  for (const follower of followed.followers) follower(events);
}

const relayKey = (key: CollabFieldKey, rowId: string) => `${key}:${rowId}`;

const relays = new WeakMap<Db, DocRelay>();

/** The relay of one api runtime (its database client), made on first use. */
export function relayOf(db: Db): DocRelay {
  let relay = relays.get(db);
  if (!relay) relays.set(db, (relay = new DocRelay()));
  return relay;
}

/** Makes the runtime's relay complete with `feed` (before any follow or write). */
export function feedRelay(db: Db, feed: LogFeed): void {
  relays.set(db, new DocRelay(feed));
}
