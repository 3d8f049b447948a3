import { describe, expect, test } from "vitest";

import {
  parseArrayLiteral,
  parseScalar,
  parseValue,
  typeByName,
  ValueSyntaxError,
} from "./types";

const type = (name: string, dims = 0) => {
  const found = typeByName(name, dims);
  if (!found) throw new Error(name);
  return found;
};

describe("Postgres text values", () => {
  test("integers with range checks", () => {
    expect(parseScalar(" 42 ", type("int4"))).toBe(42n);
    expect(() => parseScalar("2147483648", type("int4"))).toThrow(
      ValueSyntaxError,
    );
    expect(parseScalar("9223372036854775807", type("int8"))).toBe(
      9223372036854775807n,
    );
    expect(() => parseScalar("1.5", type("int4"))).toThrow(
      /invalid input syntax for type int4/,
    );
  });

  test("timestamps: offsets, fractions, T/space separators", () => {
    const tz = type("timestamptz");
    expect(parseScalar("2024-01-02 03:04:05.123456+00", tz)).toBe(
      parseScalar("2024-01-02T05:04:05.123456+02:00", tz),
    );
    expect(parseScalar("2024-01-02 03:04:05Z", tz)).toBe(
      BigInt(Date.UTC(2024, 0, 2, 3, 4, 5)) * 1000n,
    );
    expect(parseScalar("2024-01-02", type("date"))).toBe(
      Date.UTC(2024, 0, 2) / 86_400_000,
    );
    expect(() => parseScalar("2024-02-30", type("date"))).toThrow(
      ValueSyntaxError,
    );
  });

  test("uuid, bool, floats", () => {
    expect(
      parseScalar("{A0EEBC999C0B4EF8BB6D6BB9BD380A11}", type("uuid")),
    ).toBe("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    expect(parseScalar("t", type("bool"))).toBe(true);
    expect(parseScalar("off", type("bool"))).toBe(false);
    expect(parseScalar("NaN", type("float8"))).toBeNaN();
    expect(parseScalar("-Infinity", type("float8"))).toBe(-Infinity);
  });

  test("array literals: quoting, escapes, NULL, nesting", () => {
    expect(
      parseValue('{"a b",c,NULL,"NULL","q\\"x"}', type("text", 1)),
    ).toEqual(["a b", "c", null, "NULL", 'q"x']);
    expect(parseValue("{{1,2},{3,NULL}}", type("int4", 2))).toEqual([
      [1n, 2n],
      [3n, null],
    ]);
    expect(parseValue("{}", type("int4", 1))).toEqual([]);
    expect(() => parseArrayLiteral("{1,2", (item) => item)).toThrow(
      ValueSyntaxError,
    );
  });
});
