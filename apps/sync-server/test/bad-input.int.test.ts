/**
 * Bad requests get Electric's 400 body (`{message: "Invalid request", errors: {key: [...]}}`)
 * through the official client's FetchError, never rows outside the shape or a crash; the
 * server keeps serving afterwards. Each case asserts what Electric answers (the key, and
 * Electric's words or its `At location N:` prefix where it has them; see SPEC.md "Error
 * bodies"), so the same assertions hold in parity mode; our explanatory text after the prefix
 * is not asserted.
 */
import { connect } from "node:net";
import { Shape, ShapeStream } from "@electric-sql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Harness } from "./support/harness";
import { startSyncServer } from "../src/server";
import {
  changeMessages,
  differsFromElectric,
  ourServerOnly,
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
    // Electric's identifier parser words this differently; the key is what apps see.
    [
      "table with SQL after it",
      { table: "items; DROP TABLE items" },
      "table",
      /./,
    ],
    [
      "columns without the primary key",
      { columns: ["title"] },
      "columns",
      /^The list of columns must include all primary key columns, missing: id$/,
    ],
    [
      "unknown column",
      { columns: ["id", "nope"] },
      "columns",
      /^The following columns are not found on the table: nope$/,
    ],
    [
      "where with a second statement",
      { where: "id = 1; DROP TABLE items" },
      "where",
      /^unescaped ";" causing statement split$/,
    ],
    [
      // Electric without its allow_subqueries feature flag; with it, Electric serves them.
      "where with a subquery",
      { where: "id IN (SELECT id FROM items)" },
      "where",
      /^Subqueries are not supported/,
    ],
    [
      "where calling a function",
      { where: "title = current_user" },
      "where",
      /^At location \d+: /,
    ],
    [
      "where calling pg_sleep",
      { where: "pg_sleep(10) IS NULL" },
      "where",
      /^At location 0: unknown or unsupported function pg_sleep\/1$/,
    ],
    [
      "where on an unknown column",
      { where: "nope = 1" },
      "where",
      /^At location 0: unknown reference nope$/,
    ],
    [
      "non-boolean where",
      { where: "id + 1" },
      "where",
      /^WHERE clause must return a boolean/,
    ],
    [
      "syntax error",
      { where: "id = = 1" },
      "where",
      /^At location \d+: syntax error at or near "="$/,
    ],
    [
      "missing param",
      { where: "id = $1 AND title = $2", params: ["1"] },
      "where",
      /^At location 20: parameter \$2 was not provided$/,
    ],
    [
      "extra param",
      { where: "id = $1", params: ["1", "2"] },
      "where",
      /^At location 0: parameter value for \$2 was not used$/,
    ],
    [
      "param of the wrong type",
      { where: "id = $1", params: ["1 OR 1=1"] },
      "where",
      /^At location 5: invalid syntax for type int4/,
    ],
    [
      "param keys that are not numbers",
      { where: "id = $1", params: { one: "1" } },
      "params",
      /^Parameters can only use numbers as keys$/,
    ],
    [
      "param keys with a gap",
      { where: "id = $1", params: { "1": "1", "3": "3" } },
      "params",
      /^Parameters must be numbered sequentially, starting from 1$/,
    ],
    ["bad replica", { replica: "partial" }, "replica", /^is invalid$/],
  ])("%s", async (_name, params, field, message) => {
    const { status, body } = await errorFor(params);
    expect(status).toBe(400);
    expect(body.message).toBe("Invalid request");
    expect(Object.keys(body.errors ?? {})).toEqual([field]);
    expect(body.errors?.[field]).toEqual([expect.stringMatching(message)]);
  });

  test.for([
    "id = = 1",
    "title = 'é' AND AND id = 1",
    "(id = 1",
    "id = 1 OR",
    "id IN ()",
    "title = 'a' title",
  ])(
    "a WHERE syntax error is reported at Postgres' own position: %s",
    async (where) => {
      // Postgres' `position` for the text Electric parses: 1-based, in characters.
      const position = await h.sql.query(`SELECT 1 WHERE ${where}`).then(
        () => undefined,
        (error: unknown) => Number((error as { position?: string }).position),
      );
      expect(position).toBeGreaterThan(0);
      const { status, body } = await errorFor({ where });
      expect(status).toBe(400);
      expect(body.errors?.where).toEqual([
        expect.stringMatching(
          new RegExp(`^At location ${position}: syntax error at `),
        ),
      ]);
    },
  );

  test("where failing at run time (division by zero)", async (ctx) => {
    differsFromElectric(
      ctx,
      "Electric folds only constant expressions, so it accepts this shape and the error comes from its snapshot query; we refuse it up front with 400 errors.where",
    );
    const { status, body } = await errorFor({ where: "id / (id - id) > 0" });
    expect(status).toBe(400);
    expect(body.errors?.where?.join(" ")).toMatch(/division by zero/);
  });

  test.for<[string, string]>([
    ["NOT x200", `${"NOT ".repeat(200)}true`],
    ["lower( x1,200", `${"lower(".repeat(1200)}title${")".repeat(1200)} = 'a'`],
    ["NOT x2,000", `${"NOT ".repeat(2000)}true`],
    ["+ 1 x3,000", `id${"+1".repeat(3000)} > 0`],
  ])(
    "where nested deeper than 100 levels (%s) → 400 before analysis",
    async ([name, where], ctx) => {
      differsFromElectric(
        ctx,
        `Electric documents no depth limit; it may accept ${name}`,
      );
      const { status, body } = await errorFor({ where });
      expect(status).toBe(400);
      expect(Object.keys(body.errors ?? {})).toEqual(["where"]);
      expect(body.errors?.where).toEqual([
        expect.stringMatching(/nested too deeply/),
      ]);
    },
  );

  test("garbage offset", async () => {
    const { status, body } = await errorFor(
      {},
      { offset: "abc", handle: "whatever" },
    );
    expect(status).toBe(400);
    expect(body).toEqual({
      message: "Invalid request",
      errors: { offset: ["has invalid format"] },
    });
  });

  test("missing table", async () => {
    const url = new URL(h.shapeUrl);
    url.searchParams.set("offset", "-1");
    const response = await fetch(url);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      message: "Invalid request",
      errors: { table: ["can't be blank"] },
    });
  });

  test("table still intact and server still serving", async () => {
    const shape = new Shape(
      new ShapeStream({ url: h.shapeUrl, params: { table: h.table("items") } }),
    );
    expect((await shape.rows).length).toBe(2);
    shape.unsubscribeAll();
  });
});

describe("only user tables are synced", () => {
  /** What a shape request could alter: publication membership and replica identity. */
  async function catalogState() {
    const { rows } = await h.sql.query<{ state: string }>(`
      SELECT json_build_object(
        'published', (SELECT json_agg(p ORDER BY p.pubname, p.schemaname, p.tablename)
                        FROM pg_publication_tables p),
        'identity', (SELECT json_object_agg(c.oid, c.relreplident) FROM pg_class c)
      )::text AS state`);
    return rows[0]?.state;
  }

  beforeAll(async () => {
    await h.sql.query(`
      CREATE VIEW items_view AS SELECT * FROM items;
      CREATE MATERIALIZED VIEW items_matview AS SELECT * FROM items;
      CREATE SEQUENCE items_seq;
      CREATE UNLOGGED TABLE items_unlogged (id int PRIMARY KEY);
    `);
  });

  test.for<[string, RegExp]>([
    ["information_schema.sql_features", /system/],
    ["information_schema.sql_sizing", /system/],
    ["information_schema.tables", /system/],
    ["pg_catalog.pg_authid", /system/],
    ["pg_catalog.pg_class", /system/],
    ["pg_toast.pg_toast_1255", /system/],
    ["pg_temp.anything", /system/],
    ["items_view", /not a table/],
    ["items_matview", /not a table/],
    ["items_seq", /not a table/],
    ["items_unlogged", /unlogged/],
  ])(
    "%s → 400 under table, and nothing altered",
    async ([table, message], ctx) => {
      differsFromElectric(
        ctx,
        "what Electric answers for system catalogs, views and unlogged tables is not specified",
      );
      const before = await catalogState();
      const { status, body } = await errorFor({ table });
      expect(status).toBe(400);
      expect(Object.keys(body.errors ?? {})).toEqual(["table"]);
      expect(body.errors?.table).toEqual([expect.stringMatching(message)]);
      expect(await catalogState()).toEqual(before);
    },
  );
});

describe("ELECTRIC_ALLOWED_TABLES", () => {
  test("only the listed tables are served; any other gets 400 under table and is not published", async (ctx) => {
    ourServerOnly(ctx, "starts a second server of ours with an allow-list");
    const restricted = await startHarness({
      allowedTables: ["items", "public.notes"],
    });
    try {
      await restricted.sql.query(`
        CREATE TABLE items (id int PRIMARY KEY, title text);
        CREATE TABLE notes (id int PRIMARY KEY);
        CREATE TABLE tokens (id int PRIMARY KEY, token text);
        INSERT INTO items VALUES (1, 'one');
      `);
      const shape = new Shape(
        new ShapeStream({
          url: restricted.shapeUrl,
          params: { table: "items" },
        }),
      );
      expect(await shape.rows).toEqual([{ id: 1, title: "one" }]);
      shape.unsubscribeAll();
      for (const table of ["tokens", "public.tokens", '"tokens"']) {
        const error = await shapeError({
          url: restricted.shapeUrl,
          params: { table },
        });
        expect(error.status, table).toBe(400);
        expect(error.json).toEqual({
          message: "Invalid request",
          errors: {
            table: [
              expect.stringMatching(/not one of the tables this server syncs/),
            ],
          },
        });
      }
      const { rows } = await restricted.sql.query<{ tablename: string }>(
        "SELECT tablename FROM pg_publication_tables ORDER BY 1",
      );
      expect(rows.map((row) => row.tablename)).toEqual(["items"]);
    } finally {
      await restricted.close();
    }
  });

  test("a name that is not a table name stops the server from starting", async (ctx) => {
    ourServerOnly(ctx, "starts a server of ours");
    // Refused before it connects to anything.
    await expect(
      startSyncServer({
        databaseUrl: h.database.url,
        port: 0,
        insecure: true,
        allowedTables: ["items; DROP TABLE items"],
      }),
    ).rejects.toThrow(/allowed tables: .*Invalid table name/);
  });
});

describe("malformed requests", () => {
  /** Sends `head` as the raw request and resolves with the response's status line. */
  function rawStatusLine(head: string): Promise<string> {
    const { hostname, port } = new URL(h.baseUrl);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(head));
      let received = "";
      socket.setTimeout(5_000, () => {
        socket.destroy();
        reject(new Error(`no answer to ${JSON.stringify(head)}`));
      });
      socket.on("data", (chunk: Buffer) => {
        received += chunk.toString("latin1");
        const end = received.indexOf("\r\n");
        if (end < 0) return;
        socket.destroy();
        resolve(received.slice(0, end));
      });
      socket.on("error", reject);
    });
  }

  test.for([
    "http://[::1/v1/shape",
    "http://[::1]:99999/v1/shape?table=items&offset=-1",
    "http://user@:80/v1/shape",
  ])("request target %s → 400, not 500", async (target) => {
    const line = await rawStatusLine(
      `GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
    );
    expect(line).toMatch(/^HTTP\/1\.1 400 /);
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
