/**
 * The runtime's promises one at a time, against the in-memory backend (the model test mixes
 * them at random; the integration tests run them on the real stack).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";

import type { Issue } from "@repo/schema";
import { mutations, mutationsByName } from "@repo/mutations";

import type { SyncClientOptions } from "./client-options";
import type { MutationRequest } from "./transport";
import type { MutationResult } from "./types";
import { createSyncClient } from "./client";
import { MutationRejectedError, TxidTimeoutError } from "./errors";
import { fileOutbox } from "./outbox/file";
import { memoryOutbox } from "./outbox/storage";
import { createTabGroup } from "./tabs";
import { apiError, FakeBackend, USER_ID } from "./testing/fake-backend";

const PROJECT = "00000000-0000-4000-8000-0000000000aa";
let ids = 0;
const newId = () =>
  `00000000-0000-4000-8000-${String(++ids).padStart(12, "0")}`;
const at = () => new Date(Date.UTC(2026, 0, 1, 0, 0, ids));

interface Call {
  request: MutationRequest;
  resolve: (result: MutationResult) => void;
  reject: (error: unknown) => void;
}

function setup(options: Partial<SyncClientOptions> = {}) {
  const backend = new FakeBackend(mutationsByName, (request) =>
    (request.args as { title?: string }).title === "forbidden"
      ? apiError("FORBIDDEN", "forbidden", 403)
      : undefined,
  );
  const calls: Call[] = [];
  const sent: MutationRequest[] = [];
  const client = createSyncClient({
    mutations: mutationsByName,
    actor: { userId: USER_ID },
    shapeUrl: "http://sync.test/v1/shape",
    createStream: backend.createStream,
    transport: (request) => {
      // What went over the wire; the abort signal is the runtime's own, new on every send.
      const { signal: _signal, ...wire } = request;
      sent.push(wire);
      return new Promise((resolve, reject) =>
        calls.push({ request, resolve, reject }),
      );
    },
    retry: { initialMs: 1e9 },
    shapeLingerMs: 0,
    ...options,
  });
  const answer = async () => {
    await settle(); // the write is stored before it is sent
    const call = calls.shift();
    if (!call) throw new Error("nothing in flight");
    try {
      call.resolve(backend.execute(call.request));
    } catch (error) {
      call.reject(error);
    }
    await settle();
  };
  const deliver = async () => {
    for (const stream of backend.streams)
      if (stream.isSubscribed) stream.deliver();
    await settle();
  };
  return { backend, client, calls, sent, answer, deliver };
}

const settle = async () => {
  for (let i = 0; i < 3; i++)
    await new Promise((resolve) => setImmediate(resolve));
};

/** Waits (bounded) for a condition that file I/O makes true a few ticks later. */
async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 5_000; !condition();) {
    if (Date.now() > deadline) throw new Error("condition not met within 5 s");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function createIssue(title = "A new issue") {
  return { id: newId(), projectId: PROJECT, title, sortKey: "a0", at: at() };
}

let cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups) cleanup();
  cleanups = [];
});

describe("optimistic view", () => {
  it("shows a write in the same tick as mutate, then swaps in the synced row in one notification", async () => {
    const { client, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    await deliver();
    const seen: (Issue | undefined)[] = [];
    const input = createIssue();
    issues.subscribe(() => seen.push(issues.getSnapshot().rows.get(input.id)));

    const synced = client.mutate(mutations.issues.create, input);
    expect(issues.getSnapshot().rows.get(input.id)?.title).toBe("A new issue");
    expect(issues.getSnapshot().isPending(input.id)).toBe(true);

    await answer();
    await deliver();
    const result = await synced;
    expect(result.txid).toBeGreaterThan(0);
    expect(issues.getSnapshot().isPending(input.id)).toBe(false);
    // Every published view had the row: optimistic, then synced — never a frame without it.
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((row) => row?.id === input.id)).toBe(true);
    expect(client.getStatus()).toEqual({
      connection: "synced",
      pending: 0,
      unauthorized: false,
    });
  });

  it("a shape opened while a write is pending shows the write, with or without server-rendered rows", async () => {
    const { client, deliver } = setup();
    cleanups.push(() => client.close());
    await client.ready;
    const input = createIssue("Written before the page showed it");
    void client.mutate(mutations.issues.create, input).catch(() => undefined);

    const rendered = client.shape({
      table: "issues",
      where: "project_id = $1",
      params: [PROJECT],
      matches: (issue) => issue.projectId === PROJECT,
      initial: { handle: "h", offset: "0_0", rows: [] },
    });
    const opened = client.shape({ table: "issues" });
    expect(rendered.getSnapshot().rows.get(input.id)?.title).toBe(input.title);
    expect(opened.getSnapshot().rows.get(input.id)?.title).toBe(input.title);
    await deliver();
    expect(opened.getSnapshot().rows.get(input.id)?.title).toBe(input.title);
    expect(opened.getSnapshot().isPending(input.id)).toBe(true);
  });

  it("keeps applying synced changes while a write is in flight, with the write rebased on top", async () => {
    const { client, backend, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    const existing = createIssue("Shared");
    backend.commit(
      mutations.issues.create.reduce(
        { get: () => undefined, list: () => [] },
        existing,
        { userId: USER_ID },
      ),
    );
    await client.ready;
    await deliver();

    const renamed = client.mutate(mutations.issues.update, {
      id: existing.id,
      title: "Mine",
      at: at(),
    });
    backend.commit([
      {
        type: "update",
        table: "issues",
        id: existing.id,
        changes: { priority: "urgent" },
      },
    ]);
    await deliver();
    // The other client's change shows at once, under the pending rename.
    expect(issues.getSnapshot().rows.get(existing.id)).toMatchObject({
      title: "Mine",
      priority: "urgent",
    });
    await answer();
    await deliver();
    await renamed;
    expect(issues.getSnapshot().rows.get(existing.id)).toMatchObject({
      title: "Mine",
      priority: "urgent",
    });
  });
});

describe("rollback and retries", () => {
  it("a refused write rolls back alone with the api's reason; a later one stays", async () => {
    const { client, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    await deliver();
    const refused = createIssue("forbidden");
    const kept = createIssue("kept");
    const first = client.mutate(mutations.issues.create, refused);
    const second = client.mutate(mutations.issues.create, kept);
    const firstError = first.catch((e: unknown) => e);
    await answer();
    const error = await firstError;
    expect(error).toBeInstanceOf(MutationRejectedError);
    expect(error).toMatchObject({ code: "FORBIDDEN", reason: "forbidden" });
    expect(issues.getSnapshot().rows.has(refused.id)).toBe(false);
    expect(issues.getSnapshot().rows.has(kept.id)).toBe(true);
    expect(issues.getSnapshot().isFailed(refused.id)).toBe(true);
    expect(client.getFailures().map((f) => f.name)).toEqual(["issues.create"]);
    await answer();
    await deliver();
    await second;
  });

  it("a transient failure is retried with the same mutation id, never rolled back", async () => {
    const { client, calls, sent, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    await deliver();
    const input = createIssue();
    const synced = client.mutate(mutations.issues.create, input);
    await settle();
    calls.shift()?.reject(new TypeError("fetch failed"));
    await settle();
    expect(client.getStatus().connection).toBe("offline");
    expect(issues.getSnapshot().rows.has(input.id)).toBe(true);
    const conflict = Object.assign(new Error("write conflict"), {
      data: {
        code: "CONFLICT",
        reason: "write_conflict",
        retryable: true,
        httpStatus: 409,
      },
    });
    client.retryNow();
    await settle();
    calls.shift()?.reject(conflict);
    await settle();
    client.retryNow();
    await settle();
    await answer();
    await deliver();
    await synced;
    expect(new Set(sent.map((request) => request.mutationId)).size).toBe(1);
    expect(sent).toHaveLength(3);
  });

  it("a send left unanswered is given up and sent again under the same id", async () => {
    const { client, calls, sent, answer } = setup({
      sendTimeoutMs: 50,
      retry: { initialMs: 10, maxMs: 10 },
    });
    cleanups.push(() => client.close());
    await client.ready;
    const synced = client.mutate(mutations.issues.create, createIssue());
    await until(() => sent.length === 1);
    const stalled = calls.shift();
    // The stalled request is told to let go, and the write goes again once the timeout passes.
    await until(() => sent.length === 2);
    expect(stalled?.request.signal?.aborted).toBe(true);
    expect(stalled?.request.signal?.reason).toMatchObject({
      name: "DeadlineError",
    });
    await answer();
    await expect(synced).resolves.toMatchObject({ data: { ok: true } });
    expect(sent.map((request) => request.mutationId)).toEqual([
      sent[0]?.mutationId,
      sent[0]?.mutationId,
    ]);
  });
});

describe("reconciliation", () => {
  it("a write that touches no followed shape resolves on the api's answer", async () => {
    const { client, answer } = setup();
    cleanups.push(() => client.close());
    await client.ready;
    const synced = client.mutate(mutations.issues.create, createIssue());
    await answer();
    await expect(synced).resolves.toMatchObject({ data: { ok: true } });
  });

  it("a write touching two shapes stays pending until both have its txid", async () => {
    const { client, backend, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    const comments = client.shape({ table: "comments" });
    const issue = createIssue();
    backend.commit(
      mutations.issues.create.reduce(
        { get: () => undefined, list: () => [] },
        issue,
        { userId: USER_ID },
      ),
    );
    const comment = {
      id: newId(),
      projectId: PROJECT,
      issueId: issue.id,
      body: "hi",
      at: at(),
    };
    backend.commit(
      mutations.comments.create.reduce(
        { get: () => undefined, list: () => [] },
        comment,
        { userId: USER_ID },
      ),
    );
    await client.ready;
    await deliver();

    let done = false;
    const deleted = client
      .mutate(mutations.issues.delete, { id: issue.id })
      .then(() => (done = true));
    expect(comments.getSnapshot().rows.has(comment.id)).toBe(false);
    await answer();
    const [issueStream] = backend.streamsOf("issues");
    issueStream?.deliver();
    await settle();
    expect(done).toBe(false);
    expect(client.pendingWrites()).toHaveLength(1);
    expect(comments.getSnapshot().rows.has(comment.id)).toBe(false);
    await deliver();
    await deleted;
    expect(issues.getSnapshot().rows.has(issue.id)).toBe(false);
    expect(comments.getSnapshot().rows.has(comment.id)).toBe(false);
  });

  it("a snapshot taken after the commit confirms the write (409 refetch)", async () => {
    const { client, backend, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    await deliver();
    const input = createIssue();
    const synced = client.mutate(mutations.issues.create, input);
    await answer();
    const [stream] = backend.streamsOf("issues");
    stream?.mustRefetch();
    await settle();
    // Old rows stay visible until the new snapshot is up to date.
    expect(issues.getSnapshot().rows.has(input.id)).toBe(true);
    await deliver();
    await synced;
    expect(issues.getSnapshot().rows.get(input.id)?.title).toBe(input.title);
  });

  it("a txid that never arrives ends in TxidTimeoutError and the optimistic row goes", async () => {
    const { client, answer, deliver } = setup({ txidTimeoutMs: 30 });
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    await deliver();
    const input = createIssue();
    const synced = client.mutate(mutations.issues.create, input);
    await answer(); // committed, but the shape never delivers it
    const error = await synced.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TxidTimeoutError);
    expect((error as TxidTimeoutError).message).toMatch(
      /did not arrive within 30 ms/,
    );
    expect(issues.getSnapshot().rows.has(input.id)).toBe(false);
    expect(client.pendingWrites()).toEqual([]);
  });
});

describe("offline outbox", () => {
  it("a queue stored in a file survives a restart and replays with the same ids", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sync-outbox-"));
    cleanups.push(() => void rm(dir, { recursive: true, force: true }));
    const path = join(dir, "outbox.json");
    const first = setup({ storage: fileOutbox(path) });
    await first.client.ready;
    const input = createIssue();
    void first.client
      .mutate(mutations.issues.create, input)
      .catch(() => undefined);
    await until(() => first.sent.length === 1); // stored on disk, then sent
    const [request] = first.sent;
    first.client.close(); // the process ends before the api answered

    const second = setup({ storage: fileOutbox(path) });
    cleanups.push(() => second.client.close());
    const issues = second.client.shape({ table: "issues" });
    await second.client.ready;
    expect(second.client.clientId).toBe(first.client.clientId);
    expect(issues.getSnapshot().rows.has(input.id)).toBe(true);
    await until(() => second.sent.length === 1);
    expect(second.sent).toEqual([request]);
    await second.answer();
    await second.deliver();
    await until(() => second.client.pendingWrites().length === 0);
    // A new write after the restart gets the next id.
    void second.client
      .mutate(mutations.issues.create, createIssue())
      .catch(() => undefined);
    await until(() => second.sent.length === 2);
    expect(second.sent[1]?.mutationId).toBe((request?.mutationId ?? 0) + 1);
  });
});

describe("tabs", () => {
  it("tabs sharing an outbox show each other's pending writes at once and send each write once, from one tab", async () => {
    const backend = new FakeBackend(mutationsByName);
    const storage = memoryOutbox();
    const joinGroup = createTabGroup();
    const sent: { tab: string; request: MutationRequest }[] = [];
    const open = (tab: string) => {
      const client = createSyncClient({
        mutations: mutationsByName,
        actor: { userId: USER_ID },
        shapeUrl: "http://sync.test/v1/shape",
        createStream: backend.createStream,
        storage,
        tabs: joinGroup(),
        transport: async (request) => {
          sent.push({ tab, request });
          return backend.execute(request);
        },
        shapeLingerMs: 0,
      });
      cleanups.push(() => client.close());
      return { client, issues: client.shape({ table: "issues" }) };
    };
    const first = open("first");
    const second = open("second");
    await Promise.all([first.client.ready, second.client.ready]);
    expect(second.client.clientId).toBe(first.client.clientId);

    // The second tab's write shows in the first tab before anything is answered.
    const input = createIssue("from the second tab");
    const synced = second.client.mutate(mutations.issues.create, input);
    await until(() => first.issues.getSnapshot().rows.has(input.id));
    expect(first.issues.getSnapshot().isPending(input.id)).toBe(true);

    for (const stream of backend.streams) stream.deliver();
    await synced;
    await until(() => first.client.pendingWrites().length === 0);
    expect(sent.map(({ tab, request }) => [tab, request.mutationId])).toEqual([
      ["first", 1],
    ]);

    // The sender closes: the next tab takes over and sends what is queued.
    first.client.close();
    const later = createIssue("after the first tab closed");
    const laterSynced = second.client.mutate(mutations.issues.create, later);
    await until(() => sent.length === 2);
    for (const stream of backend.streamsOf("issues")) stream.deliver();
    await laterSynced;
    expect(sent.map(({ tab, request }) => [tab, request.mutationId])).toEqual([
      ["first", 1],
      ["second", 2],
    ]);
  });
});

describe("outbox failures", () => {
  it("an outbox that cannot be loaded falls back to memory: writes still apply and sync, the error is reported", async () => {
    const errors: Error[] = [];
    const broken = {
      load: () => Promise.reject(new Error("IndexedDB is blocked")),
      add: () => Promise.reject(new Error("unreachable")),
      remove: () => Promise.reject(new Error("unreachable")),
    };
    const { client, answer, deliver } = setup({
      storage: broken,
      onError: (error) => errors.push(error),
    });
    cleanups.push(() => client.close());
    const issues = client.shape({ table: "issues" });
    await client.ready;
    expect(errors.map((error) => error.name)).toEqual(["OutboxError"]);
    const input = createIssue();
    const synced = client.mutate(mutations.issues.create, input);
    expect(issues.getSnapshot().rows.has(input.id)).toBe(true);
    await answer();
    await deliver();
    await synced;
  });
});

describe("shapes", () => {
  it("a shape read once (live: false) asks for no live updates, and a write it shows waits only on the live shapes", async () => {
    const { client, backend, answer, deliver } = setup();
    cleanups.push(() => client.close());
    const once = client.shape({ table: "issues", live: false });
    const live = client.shape({ table: "comments" });
    await client.ready;
    await deliver();
    expect(backend.streamOptions.map((options) => options.subscribe)).toEqual([
      false,
      undefined,
    ]);
    expect(once.getSnapshot().isUpToDate).toBe(true);
    const input = createIssue();
    const synced = client.mutate(mutations.issues.create, input);
    expect(once.getSnapshot().rows.has(input.id)).toBe(true);
    await answer();
    // The read-once stream never delivers the txid; the write does not wait for it.
    await expect(synced).resolves.toMatchObject({ data: { ok: true } });
    expect(live.getSnapshot().isUpToDate).toBe(true);
  });

  it("a released shape stops its stream after the linger; a shape taken again within it keeps its stream", async () => {
    const { client, backend } = setup({ shapeLingerMs: 20 });
    cleanups.push(() => client.close());
    const first = client.shape({ table: "issues" });
    first.release();
    const again = client.shape({ table: "issues" });
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(backend.streams).toHaveLength(1);
    expect(backend.streams[0]?.aborted).toBe(false);
    again.release();
    await until(() => backend.streams[0]?.aborted === true);
    expect(backend.streamsOf("issues")).toEqual([]);
  });
});
