import { describe, expect, it } from "vitest";

import {
  decodeCall,
  decodeServerFrame,
  encodeAnswer,
  encodeCall,
  encodeEnd,
  encodeReady,
  encodeRefused,
  encodeUpdateRecord,
  joinUpdates,
  PING_FRAME,
} from "./doc-socket";

describe("doc socket frames", () => {
  it("round-trip", () => {
    const call = {
      mutationId: 2 ** 31 - 1,
      at: 1_700_000_000_123,
      update: Uint8Array.of(1, 2, 3),
    };
    expect(decodeCall(encodeCall(call))).toEqual(call);
    const updates = [
      { id: "12", clientId: "a", update: Uint8Array.of(9) },
      { id: "13", clientId: "b", update: new Uint8Array() },
    ];
    expect(
      decodeServerFrame(joinUpdates(updates.map(encodeUpdateRecord))),
    ).toEqual({
      kind: "updates",
      updates,
    });
    expect(
      decodeServerFrame(encodeReady({ complete: true, pingMs: 15_000 })),
    ).toEqual({
      kind: "ready",
      complete: true,
      pingMs: 15_000,
    });
    expect(decodeServerFrame(encodeAnswer(7, { id: "3", txid: 901 }))).toEqual({
      kind: "answer",
      mutationId: 7,
      id: "3",
      txid: 901,
    });
    const error = {
      message: "no",
      data: { code: "FORBIDDEN", httpStatus: 403 },
    };
    expect(decodeServerFrame(encodeRefused(7, error))).toEqual({
      kind: "refused",
      mutationId: 7,
      error,
    });
    expect(decodeServerFrame(encodeEnd("overflow"))).toEqual({
      kind: "end",
      reason: "overflow",
    });
    expect(decodeServerFrame(PING_FRAME)).toEqual({ kind: "ping" });
  });

  it("decode malformed frames to null without throwing", () => {
    const record = encodeUpdateRecord({
      id: "1",
      clientId: "c",
      update: Uint8Array.of(1, 2, 3),
    });
    const frames = [
      new Uint8Array(),
      Uint8Array.of(99),
      encodeCall({ mutationId: 1, at: 0, update: new Uint8Array() }).slice(
        0,
        12,
      ),
      joinUpdates([record]).slice(0, -1),
      Uint8Array.of(5),
      Uint8Array.of(5, 200),
      encodeAnswer(1, { id: "1", txid: 1 }).slice(0, 4),
      Uint8Array.of(2, 0x7b, 0xff, 0x7d),
      encodeReady({ complete: true, pingMs: 0 }),
      encodeRefused(1, { message: "m", data: { code: "" } }).slice(0, 9),
    ];
    for (const frame of frames) {
      expect(() => decodeServerFrame(frame)).not.toThrow();
      expect(decodeServerFrame(frame)).toBeNull();
    }
    expect(decodeCall(Uint8Array.of(1, 0, 0))).toBeNull();
    expect(decodeCall(encodeAnswer(1, { id: "1", txid: 1 }))).toBeNull();
  });
});
