import { createHash } from "node:crypto";

import type { SessionUser } from "../trpc";

interface Entry {
  user: SessionUser;
  /** ms since epoch: the earlier of "cached + ttl" and the session's own expiry. */
  until: number;
}

/**
 * Recently resolved sessions, so a busy client costs one session lookup per `ttlMs` instead of
 * one per request. Keyed by a SHA-256 of the token (tokens themselves are not kept). Only found
 * sessions are cached: an unknown token is looked up every time, so a new session works at
 * once and random tokens cannot fill the cache.
 *
 * The price is revocation delay: a session deleted (sign-out elsewhere, admin action) or a user
 * removed in the database stays valid in this process for up to `ttlMs`, unless `forget(token)`
 * is called in this process. A session never outlives its `expires_at`.
 */
export class SessionCache {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly ttlMs: number,
    /** Oldest entries are evicted beyond this. */
    readonly maxEntries = 10_000,
  ) {}

  get(token: string, now = Date.now()): SessionUser | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.user;
  }

  set(token: string, user: SessionUser, expiresAt: Date, now = Date.now()) {
    if (this.ttlMs <= 0) return;
    const until = Math.min(now + this.ttlMs, expiresAt.getTime());
    if (until <= now) return;
    const key = keyOf(token);
    // Re-inserting moves the key to the end: Map iteration order is the eviction order.
    this.entries.delete(key);
    this.entries.set(key, { user, until });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) break;
      this.entries.delete(oldest.value);
    }
  }

  /** Drops a token at once (call it on sign-out in this process). */
  forget(token: string): void {
    this.entries.delete(keyOf(token));
  }

  get size(): number {
    return this.entries.size;
  }
}

const keyOf = (token: string) =>
  createHash("sha256").update(token).digest("base64url");
