import "fake-indexeddb/auto";

import { describe, expect, it } from "vitest";

import { indexedDbOutbox } from "./indexeddb";

const entry = (name: string) => ({
  name,
  input: { at: new Date(Date.UTC(2026, 0, 1)) },
  queuedAt: 1,
});

describe("indexedDbOutbox", () => {
  it("tabs adding at once get consecutive ids, never one id twice; the queue reads back in order with its Dates", async () => {
    const tabs = [indexedDbOutbox("shared"), indexedDbOutbox("shared")];
    const [a, b] = tabs;
    if (!a || !b) throw new Error("unreachable");
    const [first, second] = await Promise.all([a.load(), b.load()]);
    expect(second.clientId).toBe(first.clientId);

    const added = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).add(entry(`w${i}`))),
    );
    expect(added.map((e) => e.mutationId).sort((x, y) => x - y)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    await a.remove(3);
    const stored = await b.load();
    expect(stored.lastMutationId).toBe(20);
    expect(stored.entries.map((e) => e.mutationId)).toEqual(
      [...Array.from({ length: 20 }, (_, i) => i + 1)].filter((id) => id !== 3),
    );
    expect(stored.entries[0]?.input).toEqual({
      at: new Date(Date.UTC(2026, 0, 1)),
    });
  });
});
