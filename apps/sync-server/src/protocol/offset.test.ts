import fc from "fast-check";
import { describe, expect, test } from "vitest";

import {
  bigIntToLsn,
  compareOffsets,
  formatOffset,
  lsnToBigInt,
  parseOffset,
} from "./offset";

describe("log offsets", () => {
  test("parse/format round-trip and ordering", () => {
    expect(parseOffset("-1")).toEqual({ tx: -1n, op: 0 });
    expect(formatOffset({ tx: 0n, op: Infinity })).toBe("0_inf");
    expect(parseOffset("0_inf")).toEqual({ tx: 0n, op: Infinity });
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.nat(),
        (tx, op) => {
          const text = formatOffset({ tx, op });
          expect(parseOffset(text)).toEqual({ tx, op });
        },
      ),
    );
    expect(
      compareOffsets({ tx: 5n, op: 2 }, { tx: 5n, op: Infinity }),
    ).toBeLessThan(0);
    expect(
      compareOffsets({ tx: 6n, op: 0 }, { tx: 5n, op: Infinity }),
    ).toBeGreaterThan(0);
  });

  test.each([
    "",
    "abc",
    "1",
    "1_",
    "_1",
    "01_1",
    "1_01",
    "-2",
    "1_-1",
    "1_infinity",
    "99999999999999999999999_0",
    "1_1e3",
  ])("rejects %j", (text) => {
    expect(parseOffset(text)).toBeUndefined();
  });

  test("LSN text ↔ 64-bit integer", () => {
    expect(lsnToBigInt("0/16B3748")).toBe(0x16b3748n);
    expect(lsnToBigInt("1/0")).toBe(1n << 32n);
    expect(bigIntToLsn((3n << 32n) | 0xabcn)).toBe("3/ABC");
  });
});
