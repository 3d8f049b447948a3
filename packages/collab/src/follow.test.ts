import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { EventSourceLike } from "./follow";
import { sseFollow } from "./follow";

/** An EventSource the test drives: `emit` dispatches as the browser's would. */
class FakeSource implements EventSourceLike {
  static last: FakeSource | undefined;
  closed = false;
  private readonly listeners = new Map<
    string,
    ((event: { data?: unknown }) => void)[]
  >();
  constructor(readonly url: string) {
    FakeSource.last = this;
  }
  addEventListener(
    type: string,
    listener: (event: { data?: unknown }) => void,
  ): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }
  close(): void {
    this.closed = true;
  }
  emit(type: string, data?: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener({ data });
  }
}

function follow() {
  const errors: unknown[] = [];
  const ready: unknown[] = [];
  const data: unknown[] = [];
  const { unsubscribe } = sseFollow("http://api.test/docs/follow", {
    EventSource: FakeSource,
  })(
    {
      field: "issues.description",
      rowId: "00000000-0000-4000-8000-000000000001",
      clientId: "me",
    },
    {
      onReady: (value) => ready.push(value),
      onData: (updates) => data.push(...updates),
      onError: (error) => errors.push(error),
      onComplete: () => undefined,
    },
  );
  const source = FakeSource.last;
  if (!source) throw new Error("no source");
  return { source, errors, ready, data, unsubscribe };
}

const update = JSON.stringify({ id: "1", clientId: "other", update: "AA==" });

describe("sseFollow", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("ends a stream that goes silent past two of the relay's pings, and not one that pings", () => {
    const { source, errors, ready, data } = follow();
    source.emit("ready", JSON.stringify({ complete: true, pingMs: 1_000 }));
    expect(ready).toEqual([{ complete: true }]);
    // Pings and updates keep it alive well past the bound (2 × 1 s + 5 s).
    for (let i = 0; i < 20; i++) {
      vi.advanceTimersByTime(1_000);
      source.emit(i % 2 ? "ping" : "message", i % 2 ? "{}" : update);
    }
    expect(errors).toEqual([]);
    expect(data).toHaveLength(10);
    vi.advanceTimersByTime(6_999);
    expect(errors).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(String(errors[0])).toMatch(/went silent for 7000 ms/);
    expect(source.closed).toBe(true);
    // Once ended, nothing more is handed on.
    source.emit("message", update);
    expect(data).toHaveLength(10);
  });

  it("keeps no watchdog for a relay that does not say how often it pings, nor after unsubscribe", () => {
    const quiet = follow();
    quiet.source.emit("ready", JSON.stringify({ complete: true }));
    vi.advanceTimersByTime(600_000);
    expect(quiet.errors).toEqual([]);

    const left = follow();
    left.source.emit("ready", JSON.stringify({ complete: true, pingMs: 10 }));
    left.unsubscribe();
    vi.advanceTimersByTime(60_000);
    expect(left.errors).toEqual([]);
    expect(left.source.closed).toBe(true);
  });
});
