import fc from "fast-check";
import { beforeAll, describe, expect, test } from "vitest";

import { measureTree } from "./parse-tree";
import { loadPgParser, parseSql, SqlParseError } from "./pg-parser";
import { nestingEstimate } from "./sql-nesting";

beforeAll(async () => {
  await loadPgParser();
});

/**
 * Expressions with the constructs that nest (operators, NOT, casts, calls, CASE, arrays) and
 * the lexical traps that would hide nesting from a naive scan: separators and brackets inside
 * strings, E'' escapes, dollar quotes, quoted identifiers and comments.
 */
const atom = fc.constantFrom(
  "a",
  "1",
  "$1",
  "'x, y) AND (z'",
  "'it''s'",
  "'back\\'",
  "E'\\', ) OR ('",
  "$$ , ) AND ( $$",
  "$q$ $$ , $q$",
  '"odd, ""name"" )"',
  "U&'\\0041, )'",
  "B'101'",
);
const spacer = fc.constantFrom(
  " ",
  " /* /* nested */ , ) AND ( */ ",
  " -- , ) OR\n",
  "\n",
);
const expression: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "medium", withCrossShrink: true },
    atom,
    fc
      .tuple(
        tie("expr"),
        fc.constantFrom("+", "||", "AND", "OR", "=", "<>", "*", "-+-"),
        spacer,
        tie("expr"),
      )
      .map(([a, op, s, b]) => `${a as string}${s}${op} ${b as string}`),
    fc
      .tuple(fc.constantFrom("NOT ", "- ", "+"), tie("expr"))
      .map(([op, a]) => `${op}${a as string}`),
    // One operator per character: Postgres splits `-+-+` into four prefix operators.
    fc
      .tuple(fc.integer({ min: 1, max: 40 }), tie("expr"))
      .map(([n, a]) => `${"-+".repeat(n)} ${a as string}`),
    fc
      .tuple(tie("expr"), fc.constantFrom(" IS NULL", "::int", "::text[]"))
      .map(([a, suffix]) => `${a as string}${suffix}`),
    fc
      .tuple(fc.constantFrom("lower", "coalesce", "ARRAY"), tie("expr"))
      .map(([name, a]) =>
        name === "ARRAY"
          ? `ARRAY[${a as string}, 1]`
          : `${name}(${a as string})`,
      ),
    tie("expr").map((a) => `(${a as string})`),
    fc
      .tuple(tie("expr"), tie("expr"), tie("expr"))
      .map(
        ([a, b, c]) =>
          `CASE WHEN ${a as string} THEN ${b as string} ELSE ${c as string} END`,
      ),
    fc
      .tuple(tie("expr"), fc.integer({ min: 1, max: 300 }))
      .map(([a, n]) => `${a as string}${" + a".repeat(n)}`),
  ),
})).expr;

describe("nesting estimate", () => {
  test("bounds the depth of the tree the parser builds", () => {
    let parsed = 0;
    fc.assert(
      fc.property(expression, (where) => {
        const sql = `SELECT 1 WHERE ${where}`;
        let tree;
        try {
          tree = parseSql(sql);
        } catch (error) {
          if (error instanceof SqlParseError) return;
          throw error;
        }
        parsed++;
        expect(measureTree(tree).depth).toBeLessThanOrEqual(
          nestingEstimate(sql),
        );
      }),
      { numRuns: 500 },
    );
    // Most generated expressions are valid SQL, so the bound is really exercised.
    expect(parsed).toBeGreaterThan(250);
  });

  test("input nested past the limit never reaches the parser, which keeps working", () => {
    // Each of these overflowed the stack inside the WebAssembly parser; a few dozen of them
    // broke it for good ("table index is out of bounds" on every later parse).
    const chain = `SELECT 1 WHERE 1${"+1".repeat(32_000)} = 2`;
    const casts = `SELECT 1 WHERE t${"::text".repeat(9_000)} = 'a'`;
    for (let round = 0; round < 40; round++) {
      for (const sql of [chain, casts])
        expect(() => parseSql(sql)).toThrow(/nested too deeply/);
    }
    expect(parseSql("SELECT 1 WHERE a = 1").stmts).toHaveLength(1);
  });

  test("ordinary clauses, long flat ones included, are far below the limit", () => {
    const values = Array.from({ length: 5_000 }, (_, index) => index);
    for (const where of [
      `id IN (${values.join(", ")})`,
      values.map((value) => `id = ${value}`).join(" OR "),
      values.map((value) => `(a = ${value} AND b <> 'x, y')`).join(" OR "),
      "lower(title) LIKE $1 AND (status = 'open' OR status IS NULL)",
    ])
      expect(nestingEstimate(`SELECT 1 WHERE ${where}`)).toBeLessThan(50);
  });
});
