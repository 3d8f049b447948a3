/**
 * Property: for random WHERE clauses of the supported subset and random rows (NULLs included),
 * the in-process evaluator used on replicated changes selects exactly the rows Postgres selects
 * with the SQL we send for the snapshot. A disagreement would make rows appear or vanish
 * between the snapshot and the live stream.
 */
import fc from "fast-check";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { TestDatabase } from "@repo/test-support";
import { createTestDatabase } from "@repo/test-support";

import type { TableInfo } from "../src/shapes/table-info";
import {
  RAW_TEXT_TYPES,
  SESSION_OPTIONS,
} from "../src/replication/postgres-settings";
import { loadPgParser } from "../src/shapes/pg-parser";
import { loadTableInfo } from "../src/shapes/table-info";
import { compileWhere } from "../src/shapes/where";

let database: TestDatabase;
let client: pg.Client;
let table: TableInfo;
let rows: Record<string, string | null>[];

const texts = ["a", "A", "ab", "b%", "a_c", "", "Zed", "x y"];

beforeAll(async () => {
  await loadPgParser();
  database = await createTestDatabase();
  client = new pg.Client({
    connectionString: database.url,
    options: SESSION_OPTIONS,
  });
  await client.connect();
  await client.query(`
    CREATE TABLE w (id int PRIMARY KEY, i int4, b int8, f float8, n numeric, t text, flag bool, ts timestamptz, arr int4[]);
    INSERT INTO w
    SELECT g,
      CASE WHEN g % 7 = 0 THEN NULL ELSE (g % 5) - 2 END,
      CASE WHEN g % 11 = 0 THEN NULL ELSE (g * 1000000007::int8) % 9000000000000000000 END,
      CASE WHEN g % 13 = 0 THEN 'NaN'::float8 WHEN g % 6 = 0 THEN NULL ELSE (g % 9) / 2.0 - 1 END,
      CASE WHEN g % 8 = 0 THEN NULL ELSE (g % 10) * 1.25 END,
      CASE WHEN g % 9 = 0 THEN NULL ELSE (ARRAY['a','A','ab','b%','a_c','','Zed','x y'])[1 + g % 8] END,
      CASE WHEN g % 4 = 0 THEN NULL ELSE g % 3 = 0 END,
      CASE WHEN g % 10 = 0 THEN NULL ELSE '2024-01-01 00:00:00+00'::timestamptz + (g || ' hours')::interval END,
      CASE WHEN g % 12 = 0 THEN NULL ELSE ARRAY[g % 3, g % 4, NULLIF(g % 5, 0)] END
    FROM generate_series(1, 60) g;
  `);
  table = await loadTableInfo(client as unknown as pg.Pool, {
    schema: "public",
    name: "w",
  });
  const result = await client.query<Record<string, string | null>>({
    text: "SELECT * FROM w ORDER BY id",
    types: RAW_TEXT_TYPES,
  });
  rows = result.rows;
});

afterAll(async () => {
  await client.end();
  await database.drop();
});

const quote = (text: string) => `'${text.replaceAll("'", "''")}'`;
const compare = fc.constantFrom("=", "<>", "<", "<=", ">", ">=");
const int = fc.integer({ min: -3, max: 3 });
const text = fc.constantFrom(...texts);

const atom: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(fc.constantFrom("i", "b", "f", "n"), compare, int)
    .map(([c, op, v]) => `${c} ${op} ${v}`),
  fc.tuple(compare, text).map(([op, v]) => `t ${op} ${quote(v)}`),
  fc
    .tuple(fc.constantFrom("i", "t", "flag", "ts", "arr", "f"), fc.boolean())
    .map(([c, not]) => `${c} IS ${not ? "NOT " : ""}NULL`),
  fc
    .tuple(fc.array(int, { minLength: 1, maxLength: 3 }), fc.boolean())
    .map(([list, not]) => `i ${not ? "NOT " : ""}IN (${list.join(", ")})`),
  fc
    .tuple(
      fc.constantFrom("LIKE", "ILIKE", "NOT LIKE", "NOT ILIKE"),
      fc.constantFrom("a%", "%b%", "_", "a\\_c", "%", "A%", "z%"),
    )
    .map(([op, p]) => `t ${op} ${quote(p)}`),
  fc.tuple(compare, text).map(([op, v]) => `lower(t) ${op} ${quote(v)}`),
  fc.tuple(compare, int, int).map(([op, a, v]) => `i * ${a} + 1 ${op} ${v}`),
  fc
    .tuple(int, int, fc.boolean())
    .map(([a, b, not]) => `i ${not ? "NOT " : ""}BETWEEN ${a} AND ${b}`),
  int.map((v) => `${v} = ANY(arr)`),
  fc.constantFrom(
    "arr @> '{1}'",
    "arr <@ '{0,1,2,3}'",
    "arr && ARRAY[2, 4]",
    "arr = '{0,0,NULL}'",
  ),
  fc.constantFrom(
    "flag",
    "NOT flag",
    "flag IS TRUE",
    "flag IS NOT FALSE",
    "flag IS UNKNOWN",
    "flag = true",
  ),
  fc
    .tuple(
      compare,
      fc.constantFrom(
        "2024-01-02 00:00:00+00",
        "2024-01-01T12:30:00Z",
        "2024-01-03",
      ),
    )
    .map(([op, v]) => `ts ${op} ${quote(v)}`),
  fc
    .tuple(int, fc.boolean())
    .map(([v, not]) => `i IS ${not ? "NOT " : ""}DISTINCT FROM ${v}`),
  fc.tuple(compare, int).map(([op, v]) => `coalesce(i, 0) ${op} ${v}`),
  fc.tuple(compare, int).map(([op, v]) => `greatest(i, ${v}) ${op} 1`),
  fc.tuple(compare, int).map(([op, v]) => `f ${op} ${v}.5`),
  fc.tuple(compare, text).map(([op, v]) => `t || 'x' ${op} ${quote(v)}`),
);

const expression: fc.Arbitrary<string> = fc.letrec((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    atom,
    fc
      .tuple(tie("expr"), fc.constantFrom("AND", "OR"), tie("expr"))
      .map(([a, op, b]) => `(${a as string}) ${op} (${b as string})`),
    tie("expr").map((a) => `NOT (${a as string})`),
  ),
})).expr;

describe("in-process WHERE evaluation agrees with Postgres", () => {
  test("random clauses over rows with NULLs", async () => {
    await fc.assert(
      fc.asyncProperty(expression, async (where) => {
        const compiled = compileWhere(where, table.columns, {});
        const expected = await client.query<{ id: number }>(
          `SELECT id FROM w WHERE ${compiled.sql} ORDER BY id`,
        );
        const actual = rows
          .filter((row) => compiled.matches(row))
          .map((row) => Number(row.id));
        expect(actual, where).toEqual(expected.rows.map((row) => row.id));
      }),
      { numRuns: 300 },
    );
  });

  test("params are typed by context and compared like Postgres", async () => {
    const cases: [string, Record<string, string>][] = [
      ["i = $1", { "1": "1" }],
      ["t = $1 OR t = $2", { "1": "a", "2": "Zed" }],
      ["ts >= $1", { "1": "2024-01-02 05:00:00+02" }],
      ["b > $1", { "1": "5000000000000000000" }],
      ["n < $1", { "1": "6.25" }],
      ["$1 = ANY(arr)", { "1": "2" }],
      ["flag = $1", { "1": "false" }],
    ];
    for (const [where, params] of cases) {
      const compiled = compileWhere(where, table.columns, params);
      const expected = await client.query<{ id: number }>(
        `SELECT id FROM w WHERE ${compiled.sql} ORDER BY id`,
        [...compiled.paramTexts],
      );
      const actual = rows
        .filter((row) => compiled.matches(row))
        .map((row) => Number(row.id));
      expect(actual, where).toEqual(expected.rows.map((row) => row.id));
    }
  });
});
