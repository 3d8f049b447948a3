/**
 * Commit-then-relay: once a `docs.update` transaction has committed, its updates go straight to
 * the document's followers on this api process (server-sent events, follow-http.ts), instead of
 * reaching them only through logical replication, the sync server and the log's shape. Nothing
 * is relayed before COMMIT returns, so a peer never sees an edit Postgres could still lose.
 *
 * The relay is a shortcut, not the record: followers on other api processes, followers that
 * fall behind (their buffer overflows and the stream ends) and anything written outside this
 * process reach clients through the shape as before, and a client applying an update twice
 * (relay, then shape) is a no-op in Yjs. Why in memory and not LISTEN/NOTIFY: a notification
 * carries at most 8,000 bytes and takes a database-wide lock at commit.
 *
 * Each update is encoded once, as its SSE event, and the same text is written to every
 * follower but its writer (who has it already): per follower a relayed transaction costs one
 * write, which is what a document with many editors needs (tRPC's subscription pipeline
 * serialised and streamed each event per follower: 20 followers slowed the api's calls 2.7×,
 * bench/README.md).
 */
import type { Db } from "@repo/db";
import type { CollabFieldKey, RelayedDocUpdate } from "@repo/schema";

/** Where one follower's events go: its open HTTP response. */
export interface FollowSink {
  /** Writes SSE text; returns the bytes this follower has not taken yet. */
  write(text: string): number;
  /** Ends the response. */
  end(): void;
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

/** Why the relay ended a stream: the last event it writes (`event: end`). */
type FollowEnd = "overflow" | "revoked";

type Follower = (events: readonly EncodedUpdate[]) => void;

interface EncodedUpdate {
  clientId: string;
  event: string;
}

export class DocRelay {
  private readonly followers = new Map<string, Set<Follower>>();

  /**
   * Streams the document's committed updates into `sink` until the returned stop is called,
   * the follower falls `maxBufferedBytes` behind or loses access (then `event: end`, and the
   * sink ends).
   */
  follow(
    key: CollabFieldKey,
    rowId: string,
    sink: FollowSink,
    options: FollowOptions,
  ): () => void {
    const id = relayKey(key, rowId);
    let followers = this.followers.get(id);
    if (!followers) this.followers.set(id, (followers = new Set()));
    const registered = followers;
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      registered.delete(follower);
      if (registered.size === 0 && this.followers.get(id) === registered)
        this.followers.delete(id);
    };
    const end = (reason: FollowEnd) => {
      if (stopped) return;
      stop();
      sink.write(`event: end\ndata: ${JSON.stringify({ reason })}\n\n`);
      sink.end();
    };
    const follower: Follower = (events) => {
      let text = "";
      for (const event of events)
        if (event.clientId !== options.clientId) text += event.event;
      if (text !== "" && sink.write(text) > options.maxBufferedBytes)
        end("overflow");
    };
    registered.add(follower);
    let recheckAt = Date.now() + options.recheckMs;
    const timer = setInterval(
      () => {
        if (sink.write(": ping\n\n") > options.maxBufferedBytes)
          return end("overflow");
        if (Date.now() < recheckAt) return;
        recheckAt = Date.now() + options.recheckMs;
        options.mayRead().then(
          (may) => {
            if (!may) end("revoked");
          },
          // The database is away: keep the stream; the next round asks again.
          () => undefined,
        );
      },
      Math.min(options.pingMs, options.recheckMs),
    );
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
    if (updates.length === 0) return;
    const followers = this.followers.get(relayKey(key, rowId));
    if (!followers) return;
    const events = updates.map((update) => ({
      clientId: update.clientId,
      event: `data: ${JSON.stringify(update)}\n\n`,
    }));
    for (const follower of followers) follower(events);
  }

  /** Open follows of one document (for tests). */
  followerCount(key: CollabFieldKey, rowId: string): number {
    return this.followers.get(relayKey(key, rowId))?.size ?? 0;
  }
}

const relayKey = (key: CollabFieldKey, rowId: string) => `${key}:${rowId}`;

const relays = new WeakMap<Db, DocRelay>();

/** The relay of one api runtime (its database client), made on first use. */
export function relayOf(db: Db): DocRelay {
  let relay = relays.get(db);
  if (!relay) relays.set(db, (relay = new DocRelay()));
  return relay;
}
