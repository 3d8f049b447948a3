/**
 * Bad requests get Electric's 400 body (`{message, errors: {field: [...]}}`) through the
 * official client's FetchError, never rows outside the shape or a crash; the server keeps
 * serving afterwards.
 */
import { Shape, ShapeStream } from "@electric-sql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Harness } from "./support/harness";
import {
  changeMessages,
  record,
  shapeError,
  startHarness,
  upToDateCount,
} from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.sql.query(`
    CREATE TABLE items (id int PRIMARY KEY, title text, secret text);
    INSERT INTO items VALUES (1, 'one', 's1'), (2, 'two', 's2');
  `);
});

afterAll(async () => {
  await h.close();
});

async function errorFor(
  params: Record<string, unknown>,
  extra: Record<string, unknown> = {},
) {
  const error = await shapeError({
    url: h.shapeUrl,
    params: { table: h.table("items"), ...params },
    ...extra,
  });
  return {
    status: error.status,
    body: error.json as { message?: string; errors?: Record<string, string[]> },
  };
}

describe("400 with Electric's error body", () => {
  test.each([
    ["unknown table", { table: "nope" }, "table", /does not exist/],
    [
      "table with SQL after it",
      { table: "items; DROP TABLE items" },
      "table",
      /Invalid table name/,
    ],
    [
      "columns without the primary key",
      { columns: ["title"] },
      "columns",
      /must include all primary key columns, missing: id/,
    ],
    [
      "unknown column",
      { columns: ["id", "nope"] },
      "columns",
      /not found on the table: nope/,
    ],
    [
      "where with a second statement",
      { where: "id = 1; DROP TABLE items" },
      "where",
      /single boolean expression|syntax error/,
    ],
    [
      "where with a subquery",
      { where: "id IN (SELECT id FROM items)" },
      "where",
      /subqueries are not supported/,
    ],
    [
      "where calling a function",
      { where: "title = current_user" },
      "where",
      /not supported|unsupported/,
    ],
    [
      "where calling pg_sleep",
      { where: "pg_sleep(10) IS NULL" },
      "where",
      /unsupported function pg_sleep/,
    ],
    [
      "where on an unknown column",
      { where: "nope = 1" },
      "where",
      /unknown reference nope/,
    ],
    ["non-boolean where", { where: "id + 1" }, "where", /must be type boolean/],
    ["syntax error", { where: "id = = 1" }, "where", /syntax error/],
    [
      "missing param",
      { where: "id = $1 AND title = $2", params: ["1"] },
      "params",
      /\$2 .*not provided/,
    ],
    [
      "extra param",
      { where: "id = $1", params: ["1", "2"] },
      "params",
      /\$2 were provided/,
    ],
    [
      "param of the wrong type",
      { where: "id = $1", params: ["1 OR 1=1"] },
      "params",
      /invalid input syntax for type int4/,
    ],
    [
      "where failing at run time (division by zero)",
      { where: "id / (id - id) > 0" },
      "where",
      /division by zero/,
    ],
    ["bad replica", { replica: "partial" }, "replica", /is invalid/],
  ])("%s", async (_name, params, field, message) => {
    const { status, body } = await errorFor(params);
    expect(status).toBe(400);
    expect(body.message).toBe("Invalid request");
    expect(body.errors?.[field]?.join(" ")).toMatch(message);
  });

  test("garbage offset", async () => {
    const { status, body } = await errorFor(
      {},
      { offset: "abc", handle: "whatever" },
    );
    expect(status).toBe(400);
    expect(body.errors?.offset).toEqual(["has invalid format"]);
  });

  test("table still intact and server still serving", async () => {
    const shape = new Shape(
      new ShapeStream({ url: h.shapeUrl, params: { table: h.table("items") } }),
    );
    expect((await shape.rows).length).toBe(2);
    shape.unsubscribeAll();
  });
});

describe("garbage handle", () => {
  test("a handle the server never issued → 409, then the client refetches the right rows", async () => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: h.table("items") },
      offset: "0_inf" as never,
      handle: "123-456",
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(recorded.messages[0]?.headers).toEqual({ control: "must-refetch" });
    expect(
      changeMessages(recorded.messages)
        .map((m) => m.value.id)
        .sort(),
    ).toEqual([1, 2]);
    recorded.stop();
  });
});
