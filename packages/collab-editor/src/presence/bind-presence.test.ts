/**
 * The presence binding against a scripted api and shape: what it sends (throttled, one call in
 * flight, the latest state), when it stops, and which remote rows it shows.
 */
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { Awareness } from "y-protocols/awareness";
import * as Y from "yjs";

import type { PresenceRow, UpdatePresenceInput } from "@repo/schema";
import { presenceUser } from "@repo/schema";

import type { PresenceTransport } from "./transport";
import { bindPresence } from "./bind-presence";

const ROW = "00000000-0000-4000-8000-000000000001";

interface Call {
  args: UpdatePresenceInput;
  mutationId: number;
  answer: (error?: Error) => void;
}

function setup() {
  const doc = new Y.Doc();
  const awareness = new Awareness(doc);
  const updates: Call[] = [];
  const leaves: number[] = [];
  const transport: PresenceTransport = {
    update: ({ args, mutationId }) =>
      new Promise((resolve, reject) =>
        updates.push({
          args,
          mutationId,
          answer: (error) => (error ? reject(error) : resolve({})),
        }),
      ),
    leave: async ({ mutationId }) => {
      leaves.push(mutationId);
    },
  };
  let push: (rows: PresenceRow[]) => void = () => undefined;
  const onRefused = vi.fn();
  const binding = bindPresence({
    awareness,
    field: "issues.description",
    rowId: ROW,
    transport,
    source: (onRows) => {
      push = (rows) => onRows(rows);
      return () => (push = () => undefined);
    },
    throttleMs: 50,
    heartbeatMs: 10_000,
    onRefused,
  });
  const text = doc.getText("text");
  text.insert(0, "hello world");
  const moveCursor = (index: number) =>
    awareness.setLocalStateField("cursor", {
      anchor: Y.createRelativePositionFromTypeIndex(text, index),
      head: Y.createRelativePositionFromTypeIndex(text, index),
    });
  return {
    awareness,
    binding,
    updates,
    leaves,
    onRefused,
    moveCursor,
    push: (rows: PresenceRow[]) => push(rows),
  };
}

const remoteRow = (expiresInMs: number): PresenceRow => ({
  clientId: "00000000-0000-4000-8000-0000000000aa",
  field: "issues.description",
  rowId: ROW,
  userId: "00000000-0000-4000-8000-0000000000bb",
  state: {
    awarenessId: 4242,
    cursor: null,
    user: presenceUser({
      id: "00000000-0000-4000-8000-0000000000bb",
      name: "Bo",
    }),
  },
  expiresAt: new Date(Date.now() + expiresInMs),
  updatedAt: new Date(),
});

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

it("sends one call at a time; cursor moves meanwhile go out as one call with the latest state", async () => {
  const { updates, moveCursor, binding } = setup();
  await vi.advanceTimersByTimeAsync(0);
  expect(updates).toHaveLength(1);
  for (const index of [1, 2, 3, 4]) moveCursor(index);
  await vi.advanceTimersByTimeAsync(200);
  expect(updates).toHaveLength(1);
  updates[0]?.answer();
  await vi.advanceTimersByTimeAsync(200);
  expect(updates).toHaveLength(2);
  const latest = updates[1]?.args.state.cursor;
  expect(latest?.anchor.item).toEqual(latest?.head.item);
  expect(updates.map((call) => call.mutationId)).toEqual([1, 2]);
  updates[1]?.answer();
  await binding.destroy();
});

it("renews the lease every heartbeat while nothing changes", async () => {
  const { updates, binding } = setup();
  await vi.advanceTimersByTimeAsync(0);
  updates[0]?.answer();
  await vi.advanceTimersByTimeAsync(10_100);
  expect(updates).toHaveLength(2);
  updates[1]?.answer();
  await vi.advanceTimersByTimeAsync(10_100);
  expect(updates).toHaveLength(3);
  updates[2]?.answer();
  await binding.destroy();
});

it("stops publishing after a refusal and reports it; a transient failure is retried by the next heartbeat", async () => {
  const transient = setup();
  await vi.advanceTimersByTimeAsync(0);
  transient.updates[0]?.answer(new Error("fetch failed"));
  await vi.advanceTimersByTimeAsync(10_100);
  expect(transient.updates).toHaveLength(2);
  expect(transient.onRefused).not.toHaveBeenCalled();
  transient.updates[1]?.answer();
  await transient.binding.destroy();

  const refused = setup();
  await vi.advanceTimersByTimeAsync(0);
  refused.updates[0]?.answer(
    Object.assign(new Error("forbidden"), { data: { code: "FORBIDDEN" } }),
  );
  await vi.advanceTimersByTimeAsync(0);
  expect(refused.onRefused).toHaveBeenCalledOnce();
  refused.moveCursor(3);
  await vi.advanceTimersByTimeAsync(30_000);
  expect(refused.updates).toHaveLength(1);
  await refused.binding.destroy();
});

it("shows a remote tab until its lease runs out, and no longer", async () => {
  const { awareness, push, updates, binding } = setup();
  push([remoteRow(5_000)]);
  expect(awareness.getStates().get(4242)).toMatchObject({
    user: { name: "Bo" },
  });
  await vi.advanceTimersByTimeAsync(4_900);
  expect(awareness.getStates().has(4242)).toBe(true);
  await vi.advanceTimersByTimeAsync(200);
  expect(awareness.getStates().has(4242)).toBe(false);
  updates.forEach((call) => call.answer());
  await binding.destroy();
});

it("destroy removes the remote states and leaves once", async () => {
  const { awareness, push, updates, leaves, binding } = setup();
  push([remoteRow(30_000)]);
  await vi.advanceTimersByTimeAsync(0);
  updates[0]?.answer();
  await Promise.all([binding.destroy(), binding.destroy()]);
  expect(awareness.getStates().has(4242)).toBe(false);
  expect(leaves).toEqual([2]);
});
