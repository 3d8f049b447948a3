import { describe, expect, it } from "vitest";

import { argsDigest } from "./args-digest";

describe("argsDigest", () => {
  it("is the same for one call however its arguments were serialised", () => {
    const at = new Date("2026-01-01T00:00:00.000Z");
    expect(argsDigest({ b: [1, { d: 2, c: 3 }], a: at, x: undefined })).toBe(
      argsDigest({ a: new Date(at), b: [1, { c: 3, d: 2 }] }),
    );
  });

  it("differs when any value, date or type differs", () => {
    const digests = [
      { a: 1 },
      { a: "1" },
      { a: 2 },
      { a: 1, b: null },
      { a: new Date(0) },
      { a: new Date(1) },
      { a: 1n },
      { a: [1] },
      undefined,
      null,
    ].map(argsDigest);
    expect(new Set(digests).size).toBe(digests.length);
  });
});
