import { describe, expect, test } from "vitest";

import { Decimal } from "./decimal";

const d = (text: string) => {
  const value = Decimal.parse(text);
  if (!value) throw new Error(`not a number: ${text}`);
  return value;
};

describe("Decimal (Postgres numeric)", () => {
  test.each([
    ["1.50", "1.50"],
    ["1.5e3", "1500"],
    ["1.23e1", "12.3"],
    [".5", "0.5"],
    ["-0.000", "0.000"],
    ["+7", "7"],
    ["1e-20", "0.00000000000000000001"],
    ["nan", "NaN"],
    ["-inf", "-Infinity"],
  ])("input %s prints as %s", (input, output) => {
    expect(d(input).toString()).toBe(output);
  });

  test("rejects what numeric_in rejects", () => {
    for (const text of ["", "1.2.3", "abc", "1e", "0x10", "1e100000"])
      expect(Decimal.parse(text), text).toBeUndefined();
  });

  test("compares exactly, beyond 2^53 and 17 digits", () => {
    expect(d("9007199254740993").compare(d("9007199254740992"))).toBe(1);
    expect(d("0.30000000000000001").compare(d("0.3"))).toBe(1);
    expect(d("0.1").add(d("0.2")).compare(d("0.3"))).toBe(0);
    expect(d("1.0").compare(d("1.000"))).toBe(0);
    expect(d("NaN").compare(d("Infinity"))).toBe(1);
    expect(d("NaN").compare(d("NaN"))).toBe(0);
    expect(d("-Infinity").compare(d("-1e999"))).toBe(-1);
  });

  test.each([
    ["1", "3", "0.33333333333333333333"],
    ["2", "3", "0.66666666666666666667"],
    ["10", "4", "2.5000000000000000"],
    ["100000", "3", "33333.333333333333"],
    ["1.000000000000000000000001", "1", "1.000000000000000000000001"],
    ["-7", "2", "-3.5000000000000000"],
  ])(
    "%s / %s = %s (select_div_scale, rounded half away from zero)",
    (a, b, q) => {
      expect(d(a).divide(d(b)).toString()).toBe(q);
    },
  );

  test("+ - * % keep Postgres' display scales", () => {
    expect(d("1.5").add(d("2.25")).toString()).toBe("3.75");
    expect(d("1.50").multiply(d("2.0")).toString()).toBe("3.000");
    expect(d("5.5").modulo(d("2")).toString()).toBe("1.5");
    expect(d("-5").modulo(d("2.00")).toString()).toBe("-1.00");
    expect(d("Infinity").add(d("-Infinity")).toString()).toBe("NaN");
    expect(d("0").multiply(d("Infinity")).toString()).toBe("NaN");
    expect(() => d("1").divide(d("0.00"))).toThrow(/division by zero/);
  });

  // numeric_div and numeric_mod look for NaN before they look for a zero divisor.
  test("NaN / 0 and NaN % 0 are NaN; other dividends by zero fail", () => {
    expect(d("NaN").divide(d("0")).toString()).toBe("NaN");
    expect(d("NaN").modulo(d("0.0")).toString()).toBe("NaN");
    expect(() => d("Infinity").divide(d("0"))).toThrow(/division by zero/);
    expect(() => d("-Infinity").modulo(d("0"))).toThrow(/division by zero/);
    expect(() => d("0").modulo(d("0"))).toThrow(/division by zero/);
  });

  test("conversions match Postgres' casts", () => {
    expect(d("2.5").toBigInt()).toBe(3n);
    expect(d("-2.5").toBigInt()).toBe(-3n);
    expect(Decimal.fromFloat(0.1 + 0.2).toString()).toBe("0.3");
    expect(Decimal.fromFloat(1e21).toString()).toBe("1000000000000000000000");
    expect(Decimal.fromFloat(Math.fround(0.1), 6).toString()).toBe("0.1");
    expect(d("123456789012345678901234567890.5").toNumber()).toBe(
      1.2345678901234568e29,
    );
  });
});
