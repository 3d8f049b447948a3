import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { MutationRequest } from "@repo/sync";
import {
  decodeCall,
  encodeAnswer,
  encodeReady,
  encodeRefused,
  encodeUpdateRecord,
  joinUpdates,
  PING_FRAME,
} from "@repo/schema";
import { classifyFailure } from "@repo/sync";

import type { WebSocketLike } from "./doc-socket";
import { docSocket } from "./doc-socket";

class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = [];
  binaryType = "blob";
  sent: Uint8Array[] = [];
  closed = false;
  onopen: ((event: never) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: never) => void) | null = null;

  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: Uint8Array) {
    this.sent.push(data);
  }
  close() {
    this.closed = true;
  }
  open() {
    this.onopen?.(undefined as never);
  }
  receive(frame: Uint8Array) {
    this.onmessage?.({ data: frame.slice().buffer });
  }
}

const ROW = "00000000-0000-4000-8000-000000000001";
const CLIENT = "00000000-0000-4000-8000-000000000002";

const request = (mutationId: number): MutationRequest => ({
  name: "docs.update",
  clientId: CLIENT,
  mutationId,
  args: {
    field: "issues.description",
    rowId: ROW,
    update: "AAA=",
    at: new Date(1_000),
  },
});

function channel() {
  const events: string[] = [];
  const data: unknown[] = [];
  const ch = docSocket({
    url: "ws://api.test/docs/socket",
    connect: (url) => new FakeSocket(url),
  });
  const follow = ch.follow(
    { field: "issues.description", rowId: ROW, clientId: CLIENT },
    {
      onReady: (ready) => events.push(`ready ${ready.complete}`),
      onData: (updates) => data.push(...updates),
      onError: (error) => events.push(`error ${(error as Error).message}`),
      onComplete: () => events.push("complete"),
    },
  );
  const socket = FakeSocket.all.at(-1);
  if (!socket) throw new Error("no socket");
  return { ch, follow, socket, events, data };
}

describe("docSocket", () => {
  beforeEach(() => {
    FakeSocket.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it("opens one socket for the document, sends calls made before it opened, and resolves answers by id", async () => {
    const { ch, socket, events } = channel();
    expect(new URL(socket.url).searchParams.get("client")).toBe(CLIENT);
    const first = ch.transport(request(1));
    const second = ch.transport(request(2));
    expect(socket.sent).toEqual([]);
    socket.open();
    expect(socket.sent.map((frame) => decodeCall(frame)?.mutationId)).toEqual([
      1, 2,
    ]);
    expect(decodeCall(socket.sent[0] ?? new Uint8Array())).toMatchObject({
      at: 1_000,
      update: Uint8Array.of(0, 0),
    });
    socket.receive(encodeReady({ complete: true, pingMs: 1_000 }));
    socket.receive(encodeAnswer(2, { id: "8", txid: 77 }));
    socket.receive(encodeAnswer(1, { id: "7", txid: 76 }));
    await expect(first).resolves.toEqual({ data: { id: "7" }, txid: 76 });
    await expect(second).resolves.toEqual({ data: { id: "8" }, txid: 77 });
    expect(events).toEqual(["ready true"]);
    expect(FakeSocket.all).toHaveLength(1);
  });

  it("a refusal is the api's error for classifyFailure; a closed socket fails calls as transient and ends the follow", async () => {
    const { ch, socket, events } = channel();
    socket.open();
    const refused = ch.transport(request(1));
    const lost = ch.transport(request(2));
    socket.receive(
      encodeRefused(1, {
        message: "not yours",
        data: { code: "FORBIDDEN", httpStatus: 403 },
      }),
    );
    const refusal = await refused.catch((error: unknown) => error);
    expect(classifyFailure(refusal)).toMatchObject({
      kind: "rejected",
      code: "FORBIDDEN",
    });
    socket.onclose?.({ code: 1006, reason: "" });
    const failure = await lost.catch((error: unknown) => error);
    expect(classifyFailure(failure)).toMatchObject({ kind: "transient" });
    expect(events).toEqual(["error the doc socket closed (1006 )"]);
    // The next call opens a new socket.
    void ch.transport(request(3));
    expect(FakeSocket.all).toHaveLength(2);
  });

  it("a socket the server refused fails calls with its code: 4404 for good, 4401 until a new session", async () => {
    const { ch, socket } = channel();
    socket.open();
    const call = ch.transport(request(1));
    socket.onclose?.({ code: 4404, reason: "Document not found" });
    expect(
      classifyFailure(await call.catch((error: unknown) => error)),
    ).toMatchObject({
      kind: "rejected",
      code: "NOT_FOUND",
      message: "Document not found",
    });
    const again = ch.transport(request(2));
    FakeSocket.all.at(-1)?.onclose?.({ code: 4401, reason: "Sign in first" });
    expect(
      classifyFailure(await again.catch((error: unknown) => error)),
    ).toEqual({
      kind: "transient",
      offline: false,
      unauthorized: true,
    });
  });

  it("hands relayed updates on, and ends a socket that goes silent past two pings", () => {
    const { socket, events, data } = channel();
    socket.open();
    socket.receive(encodeReady({ complete: false, pingMs: 1_000 }));
    const update = { id: "5", clientId: "other", update: Uint8Array.of(1, 2) };
    socket.receive(joinUpdates([encodeUpdateRecord(update)]));
    expect(data).toEqual([update]);
    vi.advanceTimersByTime(6_000);
    socket.receive(PING_FRAME);
    vi.advanceTimersByTime(6_000);
    expect(events).toEqual(["ready false"]);
    vi.advanceTimersByTime(1_001);
    expect(events).toEqual([
      "ready false",
      "error the doc socket went silent for 7000 ms",
    ]);
    expect(socket.closed).toBe(true);
  });

  it("a call sent again under its id takes the answer; the earlier send's abort changes nothing", async () => {
    const { ch, socket } = channel();
    socket.open();
    const aborter = new AbortController();
    const first = ch.transport({ ...request(1), signal: aborter.signal });
    const again = ch.transport(request(1));
    expect(
      classifyFailure(await first.catch((error: unknown) => error)),
    ).toMatchObject({
      kind: "transient",
    });
    aborter.abort(new Error("deadline"));
    socket.receive(encodeAnswer(1, { id: "7", txid: 76 }));
    await expect(again).resolves.toEqual({ data: { id: "7" }, txid: 76 });
  });

  it("a socket that cannot be made fails the call and the follow instead of throwing", async () => {
    const ch = docSocket({
      url: "ws://api.test/docs/socket",
      connect: () => {
        throw new SyntaxError("bad url");
      },
    });
    await expect(ch.transport(request(1))).rejects.toThrow("bad url");
    const errors: unknown[] = [];
    ch.follow(
      { field: "issues.description", rowId: ROW, clientId: CLIENT },
      {
        onData: () => undefined,
        onError: (error) => errors.push(error),
        onComplete: () => undefined,
      },
    );
    await Promise.resolve();
    expect(errors).toHaveLength(1);
  });

  it("a malformed frame ends the socket", () => {
    const { socket, events } = channel();
    socket.open();
    socket.receive(Uint8Array.of(99, 1, 2));
    expect(events).toEqual(["error the doc socket sent a malformed frame"]);
    expect(socket.closed).toBe(true);
  });

  it("unsubscribing closes the socket; an aborted call rejects with the signal's reason", async () => {
    const { ch, follow, socket } = channel();
    socket.open();
    const aborter = new AbortController();
    const call = ch.transport({ ...request(1), signal: aborter.signal });
    aborter.abort(new Error("deadline"));
    await expect(call).rejects.toThrow("deadline");
    follow.unsubscribe();
    expect(socket.closed).toBe(true);
  });
});
