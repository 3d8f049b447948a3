import { describe, expect, test } from "vitest";

import type { SqlType } from "./types";
import { pgText } from "./pg-text";

const t = (name: string, family: SqlType["family"]): SqlType => ({
  family,
  name,
  dims: 0,
});
const float8 = t("float8", "float");
const float4 = t("float4", "float");

describe("Postgres text output of computed values", () => {
  test.each([
    [1e15, "1e+15"],
    [123456789012345, "123456789012345"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-1.5e-7, "-1.5e-07"],
    [0.1 + 0.2, "0.30000000000000004"],
    [-0, "-0"],
    [NaN, "NaN"],
    [-Infinity, "-Infinity"],
  ])("float8 %s → %s", (value, text) => {
    expect(pgText(value, float8)).toBe(text);
  });

  test.each([
    [Math.fround(0.1), "0.1"],
    [100000, "100000"],
    [1234567, "1.234567e+06"],
    [Math.fround(0.3) * 3, "0.90000004"],
  ])("float4 %s → %s", (value, text) => {
    expect(pgText(Math.fround(value), float4)).toBe(text);
  });

  test("dates, timestamps and times in ISO style, UTC", () => {
    expect(pgText(19724, t("date", "date"))).toBe("2024-01-02");
    expect(pgText(-719163, t("date", "date"))).toBe("0001-12-31 BC");
    expect(pgText(1704164645123400n, t("timestamptz", "timestamptz"))).toBe(
      "2024-01-02 03:04:05.1234+00",
    );
    expect(pgText(-1000000n, t("timestamp", "timestamp"))).toBe(
      "1969-12-31 23:59:59",
    );
    expect(pgText(86_400_000_000n, t("time", "time"))).toBe("24:00:00");
    expect(pgText(500_000n, t("time", "time"))).toBe("00:00:00.5");
  });
});
