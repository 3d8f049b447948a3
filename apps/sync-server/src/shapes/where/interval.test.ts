import { describe, expect, test } from "vitest";

import { Interval } from "./interval";

const iv = (text: string) => {
  const value = Interval.parse(text);
  if (!value) throw new Error(`not an interval: ${text}`);
  return value;
};

describe("Interval (Postgres interval)", () => {
  test.each([
    ["1 year 2 mons 3 days 04:05:06.25", "P1Y2M3DT4H5M6.25S"],
    ["-1 day 02:00", "P-1DT2H"],
    ["-00:00:01.5", "PT-1.5S"],
    ["@ 2 hours ago", "PT-2H"],
    ["1 week", "P7D"],
    ["-1.5 seconds", "PT-1.5S"],
    ["P1Y2M3DT4H5M6.25S", "P1Y2M3DT4H5M6.25S"],
    ["PT-1H-30M", "PT-1H-30M"],
    ["PT0S", "PT0S"],
    ["14 months", "P1Y2M"],
  ])("%s prints as %s (IntervalStyle iso_8601)", (input, output) => {
    expect(iv(input).toString()).toBe(output);
  });

  test("compares like Postgres: a month is 30 days, a day 24 hours", () => {
    expect(iv("1 mon").compare(iv("30 days"))).toBe(0);
    expect(iv("1 day").compare(iv("24:00:00"))).toBe(0);
    expect(iv("1 day").compare(iv("23:59:59.999999"))).toBe(1);
    expect(iv("-1 day 02:00").compare(iv("-22 hours"))).toBe(0);
  });

  test("spellings it cannot read exactly are refused", () => {
    for (const text of [
      "1.5 days",
      "1 day 1 day",
      "1 hour 02:00",
      "0",
      "4 fortnights",
      "P1.5D",
      "P",
      "",
    ])
      expect(Interval.parse(text), text).toBeUndefined();
  });
});
