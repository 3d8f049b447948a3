/**
 * WHERE clauses with positional params, evaluated on the snapshot (by Postgres) and on
 * replicated changes (in-process), including rows moving into and out of the shape.
 */
import type { Row } from "@electric-sql/client";
import { Shape, ShapeStream } from "@electric-sql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Harness } from "./support/harness";
import {
  changeMessages,
  differsFromElectric,
  record,
  startHarness,
  upToDateCount,
} from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.sql.query(`
    CREATE TABLE tasks (
      id int PRIMARY KEY, status text NOT NULL, priority int NOT NULL, tags text[] NOT NULL DEFAULT '{}',
      due timestamptz, title text
    );
    INSERT INTO tasks VALUES
      (1, 'open', 1, '{a}', '2024-01-01 10:00+00', 'Alpha'),
      (2, 'open', 3, '{a,b}', '2024-02-01 10:00+00', 'beta'),
      (3, 'closed', 5, '{b}', NULL, 'Gamma'),
      (4, 'open', 5, '{}', '2024-03-01 10:00+00', NULL);
  `);
});

afterAll(async () => {
  await h.close();
});

async function rowsOf(params: Record<string, unknown>): Promise<Row[]> {
  const controller = new AbortController();
  const shape = new Shape(
    new ShapeStream({
      url: h.shapeUrl,
      params: { table: h.table("tasks"), ...params },
      signal: controller.signal,
    }),
  );
  const rows = await shape.rows;
  controller.abort();
  return rows.sort((a, b) => Number(a.id) - Number(b.id));
}

const ids = (rows: Row[]) => rows.map((row) => row.id);

describe("where clauses on the snapshot", () => {
  test.each([
    ["status = $1 AND priority >= $2", ["open", "3"], [2, 4]],
    ["status IN ('closed', 'x') OR priority < 2", undefined, [1, 3]],
    ["tags @> ARRAY['b']", undefined, [2, 3]],
    ["'a' = ANY(tags)", undefined, [1, 2]],
    ["due > $1", ["2024-01-15T00:00:00Z"], [2, 4]],
    ["due IS NULL", undefined, [3]],
    ["lower(title) LIKE 'g%' OR title ILIKE 'BETA'", undefined, [2, 3]],
    ["priority BETWEEN 2 AND 5 AND NOT (status = 'closed')", undefined, [2, 4]],
    ["title IS DISTINCT FROM 'Alpha'", undefined, [2, 3, 4]],
    ["coalesce(title, 'none') = 'none'", undefined, [4]],
    ["priority * 2 + 1 > 6", undefined, [2, 3, 4]],
  ])("%s", async (where, params, expected) => {
    expect(ids(await rowsOf({ where, ...(params ? { params } : {}) }))).toEqual(
      expected,
    );
  });
});

describe("where clauses on live changes", () => {
  test("inserts, move-in (update → insert), move-out (update → delete), deletes", async () => {
    const recorded = record({
      url: h.shapeUrl,
      params: {
        table: h.table("tasks"),
        where: "status = $1",
        params: ["open"],
      },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const before = changeMessages(recorded.messages).length;
    await h.write(
      "INSERT INTO tasks VALUES (10, 'open', 1, '{}', NULL, 'new open')",
    );
    await h.write(
      "INSERT INTO tasks VALUES (11, 'closed', 1, '{}', NULL, 'new closed')",
    );
    await h.write("UPDATE tasks SET status = 'open' WHERE id = 3"); // move-in
    await h.write("UPDATE tasks SET status = 'closed' WHERE id = 1"); // move-out
    await h.write("UPDATE tasks SET priority = 9 WHERE id = 2"); // stays in
    await h.write("UPDATE tasks SET priority = 9 WHERE id = 11"); // stays out
    await h.write("DELETE FROM tasks WHERE id = 10");
    await h.write("DELETE FROM tasks WHERE id = 11");
    await recorded.until(
      (messages) =>
        changeMessages(messages).filter((m) => m.headers.operation === "delete")
          .length >= 2,
    );
    await h.write("UPDATE tasks SET title = 'marker' WHERE id = 2");
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.value.title === "marker"),
    );
    const live = changeMessages(recorded.messages)
      .slice(before)
      .map((m) => [m.headers.operation, m.value]);
    expect(live).toEqual([
      [
        "insert",
        {
          id: 10,
          status: "open",
          priority: 1,
          tags: [],
          due: null,
          title: "new open",
        },
      ],
      [
        "insert",
        {
          id: 3,
          status: "open",
          priority: 5,
          tags: ["b"],
          due: null,
          title: "Gamma",
        },
      ],
      ["delete", { id: 1 }],
      ["update", { id: 2, priority: 9 }],
      ["delete", { id: 10 }],
      ["update", { id: 2, title: "marker" }],
    ]);
    recorded.stop();
    // The shape's final state equals the query on the table.
    const { rows } = await h.sql.query<{ id: number }>(
      "SELECT id FROM tasks WHERE status = 'open' ORDER BY id",
    );
    expect(
      ids(await rowsOf({ where: "status = $1", params: ["open"] })),
    ).toEqual(rows.map((r) => r.id));
  });

  test("numeric and interval on live changes: exact, like the snapshot", async (ctx) => {
    differsFromElectric(
      ctx,
      "Electric evaluates numeric as float8 and compares intervals by structure",
    );
    await h.sql.query(`
      CREATE TABLE amounts (id int PRIMARY KEY, amount numeric NOT NULL, wait interval NOT NULL);
      INSERT INTO amounts VALUES (1, 9007199254740992, '1 day');
    `);
    const where = "amount > $1 AND wait <= '24 hours'";
    const recorded = record({
      url: h.shapeUrl,
      params: {
        table: h.table("amounts"),
        where,
        params: ["9007199254740992"],
      },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(changeMessages(recorded.messages)).toHaveLength(0);
    await h.write(
      // In: one unit in the 16th digit / beyond 2^53; a day written as 1 day or 24 hours.
      "INSERT INTO amounts VALUES (2, 9007199254740992.0000001, '24 hours'), (3, 9007199254740993, 'P1D')",
      // Out: equal (as floats all three are), and 1 day + 1 µs.
      "INSERT INTO amounts VALUES (4, 9007199254740992.0, '1 day'), (5, 9007199254740993, '1 day 00:00:00.000001')",
    );
    await recorded.until((messages) => changeMessages(messages).length >= 2);
    await h.write(
      "UPDATE amounts SET amount = amount - 0.0000001 WHERE id = 2",
    ); // moves out
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.headers.operation === "delete"),
    );
    expect(
      changeMessages(recorded.messages).map((m) => [
        m.headers.operation,
        m.value.id,
      ]),
    ).toEqual([
      ["insert", 2],
      ["insert", 3],
      ["delete", 2],
    ]);
    recorded.stop();
    const { rows } = await h.sql.query<{ id: number }>(
      `SELECT id FROM amounts WHERE amount > 9007199254740992 AND wait <= '24 hours' ORDER BY id`,
    );
    expect(rows.map((row) => row.id)).toEqual([3]);
  });

  test("a param that looks like SQL is only a value", async () => {
    expect(
      await rowsOf({ where: "title = $1", params: ["x' OR '1'='1"] }),
    ).toEqual([]);
  });
});
