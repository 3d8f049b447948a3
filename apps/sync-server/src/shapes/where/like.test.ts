/**
 * LIKE/ILIKE through the compiled WHERE clause, as replicated rows are matched: Postgres'
 * results (also checked against Postgres itself in test/where-evaluation.int.test.ts), and
 * no pattern makes a match take longer than a few milliseconds: it runs on the event loop for
 * every replicated row, so a slow one stalls the whole server.
 */
import { beforeAll, describe, expect, test } from "vitest";

import type { ColumnInfo } from "../table-info";
import { compileWhere } from ".";
import { loadPgParser } from "../pg-parser";

const columns: ColumnInfo[] = [
  {
    name: "t",
    typeOid: 25,
    type: "text",
    dims: 0,
    notNull: false,
    pkIndex: undefined,
    typmod: -1,
    isEnum: false,
    isGenerated: false,
  },
];

function like(value: string, pattern: string, op = "LIKE"): boolean {
  return compileWhere(`t ${op} $1`, columns, { "1": pattern }).matches({
    t: value,
  });
}

beforeAll(async () => {
  await loadPgParser();
});

/** Generous for a shared 2-core machine; a backtracking matcher takes seconds to forever. */
const BOUND_MS = 250;

describe("LIKE never backtracks", () => {
  const a = (n: number) => "a".repeat(n);
  // One test, the mildest case first: a backtracking matcher fails it within seconds instead of
  // hanging the run on the later ones (sync code cannot be timed out).
  test("adversarial patterns against long values each take milliseconds", () => {
    const cases: [string, string, string][] = [
      // The issue's: 5.7 s at 12 `%a` and 30 characters with a backtracking RegExp.
      [`${"%a".repeat(10)}%b`, a(30), "LIKE"],
      [`${"%a".repeat(20)}b`, a(10_000), "LIKE"],
      [`${"%A".repeat(20)}%B`, a(10_000), "ILIKE"],
      [`${"%a_".repeat(15)}%b`, a(10_000), "LIKE"],
      [`${"%\\a".repeat(20)}%b`, a(10_000), "LIKE"],
      [`${"%a".repeat(100)}%b`, a(10_000), "LIKE"],
      [`%${a(100)}b`, a(10_000), "LIKE"],
    ];
    for (const [pattern, value, op] of cases) {
      const started = performance.now();
      expect(like(value, pattern, op), pattern).toBe(false);
      expect(performance.now() - started, pattern).toBeLessThan(BOUND_MS);
    }
    // No stack per `%`: 32,000 of them in one pattern.
    const many = "%a".repeat(32_000);
    expect(like(a(32_000), many)).toBe(true);
    expect(like(a(31_999), many)).toBe(false);
  });
});

describe("LIKE semantics are Postgres'", () => {
  test.each([
    ["abc", "abc", true],
    ["abc", "a%", true],
    ["abc", "_b_", true],
    ["abc", "c", false],
    ["abc", "%c", true],
    ["abc", "%b", false],
    ["", "", true],
    ["", "%", true],
    ["", "_", false],
    ["a", "", false],
    ["a_c", "a\\_c", true],
    ["abc", "a\\_c", false],
    ["a%", "a\\%", true],
    ["ab", "a\\%", false],
    ["a\\b", "a\\\\b", true],
    ["ab", "a\\b", true],
    ["aaa", "%a%a%a%", true],
    ["aa", "%a%a%a%", false],
    ["abab", "%ab", true],
    ["aXbYab", "a%b", true],
    ["aXbYa", "a%b", false],
    ["abc", "a__%", true],
    ["ab", "a__%", false],
    ["\u{1F600}", "_", true],
    ["\u{1F600}x", "__", true],
    ["\u{1F600}", "__", false],
    ["x\u{1F600}y", "%\u{1F600}_", true],
    // A pattern ending in a lone escape fails only where matching reaches it.
    ["a", "a\\", false],
    ["b", "a\\", false],
    ["", "%\\", false],
  ])("%j LIKE %j is %s", (value, pattern, expected) => {
    expect(like(value, pattern)).toBe(expected);
  });

  test.each([
    ["ab", "a\\"],
    ["abc", "%\\"],
    ["abc", "%b\\"],
  ])("%j LIKE %j raises Postgres' error", (value, pattern) => {
    expect(() => like(value, pattern)).toThrow(
      "LIKE pattern must not end with escape character",
    );
  });

  test.each([
    ["ABC", "a%", true],
    ["abc", "A_C", true],
    ["Straße", "STRASSE", false],
  ])("%j ILIKE %j is %s", (value, pattern, expected) => {
    expect(like(value, pattern, "ILIKE")).toBe(expected);
  });
});
