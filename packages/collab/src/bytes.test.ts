import fc from "fast-check";
import { describe, expect, it } from "vitest";

import { fromBase64, parseByteaHex, toBase64 } from "./bytes";

describe("bytes", () => {
  it("base64 round-trips any bytes, long ones included", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200_000 }), (bytes) => {
        expect(fromBase64(toBase64(bytes))).toEqual(bytes);
        expect(toBase64(bytes)).toBe(Buffer.from(bytes).toString("base64"));
      }),
      { numRuns: 50 },
    );
  });

  it("reads bytea's hex text output, and refuses anything else", () => {
    fc.assert(
      fc.property(fc.uint8Array(), (bytes) => {
        expect(
          parseByteaHex(`\\x${Buffer.from(bytes).toString("hex")}`),
        ).toEqual(bytes);
      }),
    );
    for (const bad of ["abc", "\\x1", "\\xzz", "\\001"])
      expect(() => parseByteaHex(bad)).toThrow(TypeError);
  });
});
