import { describe, expect, test } from "vitest";

import type { Expr } from "./ast";
import { toSql } from "./to-sql";
import { parseValue, typeByName } from "./types";

const literal = (text: string, name: string, dims = 0): string => {
  const type = typeByName(name, dims);
  if (!type) throw new Error(name);
  const expr: Expr = { kind: "const", value: parseValue(text, type), type };
  return toSql(expr);
};

describe("constants rendered back to SQL", () => {
  // The snapshot query must select with the value the evaluator compares with: every literal
  // has to read back in Postgres as the same value, BC and five-digit years included.
  test.each([
    ["0044-03-15 BC", "date", `'0044-03-15 BC'::"date"`],
    ["12345-06-07", "date", `'12345-06-07'::"date"`],
    ["2024-02-29", "date", `'2024-02-29'::"date"`],
    ["-infinity", "date", `'-infinity'::"date"`],
    [
      "0001-01-01 00:00:00.5 BC",
      "timestamp",
      `'0001-01-01 00:00:00.5 BC'::"timestamp"`,
    ],
    [
      "10000-01-01 12:00:00+00",
      "timestamptz",
      `'10000-01-01 12:00:00+00'::"timestamptz"`,
    ],
    ["infinity", "timestamptz", `'infinity'::"timestamptz"`],
    ["0.1", "float4", `'0.1'::"float4"`],
    ["NaN", "float8", `'NaN'::"float8"`],
    ["1.50", "numeric", `'1.50'::"numeric"`],
    ["t", "bool", `'true'::"bool"`],
  ])("%s as %s", (text, name, sql) => {
    expect(literal(text, name)).toBe(sql);
  });

  test("array elements are quoted one by one, NULL kept", () => {
    expect(literal("{0044-03-15 BC,NULL}", "date", 1)).toBe(
      `'{"0044-03-15 BC",NULL}'::"date"[]`,
    );
  });
});
