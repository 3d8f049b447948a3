import { describe, expect, it } from "vitest";

import { SessionCache } from "./session-cache";

const alice = { id: "a", name: "Alice", email: "alice@example.com" };
const bob = { id: "b", name: "Bob", email: "bob@example.com" };
const far = new Date(10_000_000);

describe("SessionCache", () => {
  it("answers within the ttl and forgets after it", () => {
    const cache = new SessionCache(1000);
    cache.set("t", alice, far, 0);
    expect(cache.get("t", 999)).toEqual(alice);
    expect(cache.get("t", 1000)).toBeUndefined();
    expect(cache.size).toBe(0);
  });

  it("never outlives the session's own expiry", () => {
    const cache = new SessionCache(1000);
    cache.set("t", alice, new Date(300), 0);
    expect(cache.get("t", 299)).toEqual(alice);
    expect(cache.get("t", 300)).toBeUndefined();
    cache.set("gone", alice, new Date(0), 0);
    expect(cache.get("gone", 0)).toBeUndefined();
  });

  it("keeps tokens apart, forgets one on request, caches nothing with ttl 0", () => {
    const cache = new SessionCache(1000);
    cache.set("t1", alice, far, 0);
    cache.set("t2", bob, far, 0);
    expect(cache.get("t2", 1)).toEqual(bob);
    cache.forget("t1");
    expect(cache.get("t1", 1)).toBeUndefined();
    expect(cache.get("t2", 1)).toEqual(bob);
    const off = new SessionCache(0);
    off.set("t", alice, far, 0);
    expect(off.get("t", 0)).toBeUndefined();
  });

  it("evicts the least recently stored entries beyond its bound", () => {
    const cache = new SessionCache(1000, 2);
    cache.set("t1", alice, far, 0);
    cache.set("t2", bob, far, 0);
    cache.set("t1", alice, far, 0);
    cache.set("t3", bob, far, 0);
    expect(cache.size).toBe(2);
    expect(cache.get("t2", 1)).toBeUndefined();
    expect(cache.get("t1", 1)).toEqual(alice);
    expect(cache.get("t3", 1)).toEqual(bob);
  });
});
