/**
 * Commit-then-relay: once a `docs.update` transaction has committed, its updates go straight to
 * the document's followers on this api process (`docs.follow`, an SSE subscription), instead of
 * reaching them only through logical replication, the sync server and the log's shape. Nothing
 * is relayed before COMMIT returns, so a peer never sees an edit Postgres could still lose.
 *
 * The relay is a shortcut, not the record: followers on other api processes, followers that
 * fall behind (their queue overflows and the subscription ends) and anything written outside
 * this process reach clients through the shape as before, and a client applying an update twice
 * (relay, then shape) is a no-op in Yjs. Why in memory and not LISTEN/NOTIFY: a notification
 * carries at most 8,000 bytes and takes a database-wide lock at commit.
 */
import type { Db } from "@repo/db";
import type { CollabFieldKey, RelayedDocUpdate } from "@repo/schema";

type Listener = (updates: readonly RelayedDocUpdate[]) => void;

export class DocRelay {
  private readonly followers = new Map<string, Set<Listener>>();

  /** Calls `listener` with each committed transaction's updates; returns the unfollow. */
  follow(key: CollabFieldKey, rowId: string, listener: Listener): () => void {
    const id = relayKey(key, rowId);
    let listeners = this.followers.get(id);
    if (!listeners) this.followers.set(id, (listeners = new Set()));
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.followers.get(id) === listeners)
        this.followers.delete(id);
    };
  }

  /** Hands committed updates to the document's followers (call only after COMMIT). */
  publish(
    key: CollabFieldKey,
    rowId: string,
    updates: readonly RelayedDocUpdate[],
  ): void {
    if (updates.length === 0) return;
    const listeners = this.followers.get(relayKey(key, rowId));
    if (!listeners) return;
    for (const listener of listeners) listener(updates);
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

export interface FollowOptions {
  signal: AbortSignal | undefined;
  /** Transactions queued for a follower that does not keep up; beyond, its follow ends. */
  maxQueued: number;
  /** How often the follower's access is checked again (a member removed stops receiving). */
  recheckMs: number;
  /** False when the follower may no longer read the document. */
  mayRead: () => Promise<boolean>;
}

/** Raised in a follow that could not keep up; the client follows again and the shape fills in. */
export class FollowerOverflow extends Error {
  constructor() {
    super("The follower fell behind; follow again");
  }
}

/** Raised in a follow whose user may no longer read the document. */
export class FollowerRevoked extends Error {
  constructor() {
    super("Document not found");
  }
}

/**
 * The committed updates of one document as an async iterable (one array per transaction), for
 * a tRPC subscription: ends when `signal` aborts, throws `FollowerOverflow` or `FollowerRevoked`.
 */
export async function* followDoc(
  relay: DocRelay,
  key: CollabFieldKey,
  rowId: string,
  options: FollowOptions,
): AsyncGenerator<readonly RelayedDocUpdate[]> {
  const queued: (readonly RelayedDocUpdate[])[] = [];
  // An object: TypeScript cannot see the listener set a plain `let`.
  const state = { overflowed: false };
  let wake: (() => void) | null = null;
  const unfollow = relay.follow(key, rowId, (updates) => {
    if (queued.length < options.maxQueued) queued.push(updates);
    else state.overflowed = true;
    wake?.();
  });
  const { signal } = options;
  const onAbort = () => wake?.();
  signal?.addEventListener("abort", onAbort);
  let recheckAt = Date.now() + options.recheckMs;
  try {
    while (!signal?.aborted) {
      const next = queued.shift();
      if (next) {
        yield next;
        continue;
      }
      if (state.overflowed) throw new FollowerOverflow();
      const waitMs = recheckAt - Date.now();
      if (waitMs <= 0) {
        if (!(await options.mayRead())) throw new FollowerRevoked();
        recheckAt = Date.now() + options.recheckMs;
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    unfollow();
    signal?.removeEventListener("abort", onAbort);
  }
}
