/**
 * Shape lifecycle through the official client: 409 must-refetch after a server restart,
 * TRUNCATE, ALTER TABLE and DROP TABLE; quoted/schema-qualified names; tables created while the
 * server runs; secret, health and DELETE endpoints.
 */
import type { Row } from "@electric-sql/client";
import { Shape, ShapeStream } from "@electric-sql/client";
import { describe, expect } from "vitest";

import { syncTest } from "./support/fixture";
import {
  changeMessages,
  ourServerOnly,
  record,
  shapeError,
  startHarness,
  upToDateCount,
} from "./support/harness";
import { lockWaiters } from "./support/locks";

const test = syncTest.override("serverOptions", { allowShapeDeletion: true });
let things = "";

test.beforeAll(async ({ h, table }) => {
  things = await table("things (id int PRIMARY KEY, name text NOT NULL)");
  await h.sql.query(`
    INSERT INTO things VALUES (1, 'a'), (2, 'b');
  `);
});

function isMustRefetch(message: { headers: object }): boolean {
  return (
    "control" in message.headers && message.headers.control === "must-refetch"
  );
}

/** Resolves with Shape rows once they satisfy `predicate`. */
function rowsWhen(
  shape: Shape,
  predicate: (rows: Row[]) => boolean,
): Promise<Row[]> {
  return new Promise((resolve) => {
    const check = (rows: Row[]) => {
      if (predicate(rows)) {
        unsubscribe();
        resolve(rows);
      }
    };
    const unsubscribe = shape.subscribe(({ rows }) => check(rows));
    if (shape.isUpToDate) check(shape.currentRows);
  });
}

describe("409 must-refetch", () => {
  test("after a server restart the client refetches and continues live", async ({
    h,
    skip,
  }) => {
    ourServerOnly({ skip }, "restarts the server process");
    const recorded = record({
      url: h.shapeUrl,
      params: { table: things },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const handle = recorded.stream.shapeHandle;
    await h.restart();
    await h.write("INSERT INTO things VALUES (3, 'c')");
    await recorded.until((messages) => messages.some(isMustRefetch));
    await recorded.until((messages) => {
      const refetchAt = messages.findIndex(isMustRefetch);
      return changeMessages(messages.slice(refetchAt)).some(
        (m) => m.value.id === 3,
      );
    });
    expect(recorded.stream.shapeHandle).not.toBe(handle);
    const afterRefetch = changeMessages(
      recorded.messages.slice(recorded.messages.findIndex(isMustRefetch)),
    );
    expect(afterRefetch.map((m) => m.value.id).sort()).toEqual([1, 2, 3]);
    recorded.stop();
  });

  test("TRUNCATE resets live shapes; Shape ends empty, then sees new rows", async ({
    h,
  }) => {
    const shape = new Shape(
      new ShapeStream({
        url: h.shapeUrl,
        params: { table: things },
      }),
    );
    const { rows: before } = await h.sql.query("SELECT id FROM things");
    expect((await shape.rows).length).toBe(before.length);
    const handle = shape.handle;
    await h.write("TRUNCATE things");
    await h.write("INSERT INTO things VALUES (10, 'after truncate')");
    const rows = await rowsWhen(
      shape,
      (rows) => rows.length === 1 && rows[0]?.id === 10,
    );
    expect(rows).toEqual([{ id: 10, name: "after truncate" }]);
    expect(shape.handle).not.toBe(handle);
    shape.unsubscribeAll();
  });

  test("ALTER TABLE ADD COLUMN resets the shape and the new column appears", async ({
    h,
  }) => {
    const shape = new Shape(
      new ShapeStream({
        url: h.shapeUrl,
        params: { table: things },
      }),
    );
    await shape.rows;
    await h.sql.query(
      "ALTER TABLE things ADD COLUMN extra int NOT NULL DEFAULT 7",
    );
    await h.write("INSERT INTO things VALUES (11, 'x', 8)");
    const rows = await rowsWhen(shape, (rows) =>
      rows.some((row) => row.id === 11),
    );
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: 10, name: "after truncate", extra: 7 },
      { id: 11, name: "x", extra: 8 },
    ]);
    shape.unsubscribeAll();
  });

  test("ALTER COLUMN TYPE resets the shape; the new schema reaches the client", async ({
    h,
  }) => {
    await h.sql.query(
      "CREATE TABLE retyped (id int PRIMARY KEY, n int NOT NULL); ALTER TABLE retyped REPLICA IDENTITY FULL; INSERT INTO retyped VALUES (1, 1)",
    );
    const shape = new Shape(
      new ShapeStream({
        url: h.shapeUrl,
        params: { table: h.table("retyped") },
      }),
    );
    expect(await shape.rows).toEqual([{ id: 1, n: 1 }]);
    const handle = shape.handle;
    await h.sql.query("ALTER TABLE retyped ALTER COLUMN n TYPE int8");
    await h.write("INSERT INTO retyped VALUES (2, 9007199254740993)");
    const rows = await rowsWhen(shape, (rows) =>
      rows.some((row) => row.id === 2),
    );
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: 1, n: 1n },
      { id: 2, n: 9007199254740993n },
    ]);
    expect(shape.handle).not.toBe(handle);
    shape.unsubscribeAll();
  });

  test("DROP TABLE under a live shape → 409, then the refetch gets 400 unknown table", async ({
    h,
  }) => {
    await h.sql.query(
      "CREATE TABLE doomed (id int PRIMARY KEY); INSERT INTO doomed VALUES (1)",
    );
    const error = new Promise<unknown>((resolve) => {
      const stream = new ShapeStream({
        url: h.shapeUrl,
        params: { table: h.table("doomed") },
        onError: (failure) => {
          resolve(failure);
        },
      });
      stream.subscribe(async (messages) => {
        if (upToDateCount(messages) > 0 && !dropped) {
          dropped = true;
          await h.sql.query("DROP TABLE doomed");
        }
      });
    });
    let dropped = false;
    expect(await error).toMatchObject({
      status: 400,
      json: { errors: { table: [expect.stringMatching(/does not exist/)] } },
    });
  });
});

describe("names and tables", () => {
  test("quoted, mixed-case, schema-qualified names with spaces and quotes", async ({
    h,
  }) => {
    const schema = h.schemaName("My Schema");
    const table = `"${schema}"."Odd ""Table"""`;
    await h.sql.query(`
      CREATE SCHEMA "${schema}";
      CREATE TABLE ${table} ("Id" int PRIMARY KEY, "the value" text, "a/b" text);
      ALTER TABLE ${table} REPLICA IDENTITY FULL;
      INSERT INTO ${table} VALUES (1, 'x', 'slash/y');
    `);
    const recorded = record({
      url: h.shapeUrl,
      params: {
        table,
        where: `"the value" = $1`,
        params: ["x"],
        columns: ["Id", "the value", "a/b"],
      },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write(`UPDATE ${table} SET "a/b" = 'z' WHERE "Id" = 1`);
    await recorded.until((messages) => changeMessages(messages).length === 2);
    const [snapshot, update] = changeMessages(recorded.messages);
    expect(snapshot?.value).toEqual({
      Id: 1,
      "the value": "x",
      "a/b": "slash/y",
    });
    // Electric doubles "/" and "." in relation names, nothing else (keys are opaque but stable).
    expect(snapshot?.key).toBe(`"${schema}"."Odd "Table""/"1"`);
    expect(update?.key).toBe(snapshot?.key);
    expect(update?.value).toEqual({ Id: 1, "a/b": "z" });
    recorded.stop();
  });

  test("a table created after the server started is usable at once", async ({
    h,
  }) => {
    await h.sql.query(
      "CREATE TABLE fresh (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), v text)",
    );
    const recorded = record({
      url: h.shapeUrl,
      params: { table: h.table("fresh") },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write("INSERT INTO fresh (v) VALUES ('hi')");
    await recorded.until((messages) => changeMessages(messages).length === 1);
    expect(changeMessages(recorded.messages)[0]?.value.v).toBe("hi");
    recorded.stop();
  });
});

describe("operations endpoints", () => {
  test("health reports active", async ({ h }) => {
    const response = await fetch(`${h.baseUrl}/v1/health`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: "active" });
  });

  test("DELETE of a shape makes its clients refetch under a new handle", async ({
    h,
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "needs the server started with shape deletion allowed",
    );
    const recorded = record({
      url: h.shapeUrl,
      params: { table: things },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const handle = recorded.stream.shapeHandle ?? "";
    const response = await fetch(
      `${h.shapeUrl}?handle=${encodeURIComponent(handle)}`,
      { method: "DELETE" },
    );
    expect(response.status).toBe(202);
    await recorded.until((messages) => messages.some(isMustRefetch));
    await recorded.until(
      (messages) =>
        upToDateCount(messages.slice(messages.findIndex(isMustRefetch))) >= 1,
    );
    expect(recorded.stream.shapeHandle).not.toBe(handle);
    expect(
      (
        await fetch(`${h.shapeUrl}?handle=${encodeURIComponent(handle)}`, {
          method: "DELETE",
        })
      ).status,
    ).toBe(404);
    recorded.stop();
  });
});

describe("secret", () => {
  test("with a secret configured, requests without it get 401 and with it succeed", async ({
    skip,
  }) => {
    ourServerOnly({ skip }, "starts a second server with a secret");
    const secured = await startHarness({ secret: "s3cret", insecure: false });
    try {
      await secured.sql.query(
        "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)",
      );
      const error = await shapeError({
        url: secured.shapeUrl,
        params: { table: secured.table("t") },
      });
      expect(error.status).toBe(401);
      const wrong = await shapeError({
        url: secured.shapeUrl,
        params: { table: secured.table("t"), secret: "nope" },
      });
      expect(wrong.status).toBe(401);
      const shape = new Shape(
        new ShapeStream({
          url: secured.shapeUrl,
          params: { table: secured.table("t"), secret: "s3cret" },
        }),
      );
      expect(await shape.rows).toEqual([{ id: 1 }]);
      shape.unsubscribeAll();
    } finally {
      await secured.close();
    }
  });
});

describe("replica identity", () => {
  test("a table without REPLICA IDENTITY FULL locked by an open transaction → 503 with a clear message, then works", async ({
    h,
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "our answer to a lock on REPLICA IDENTITY FULL (503 + retry-after); Electric waits on the lock",
    );
    await h.sql.query(
      "CREATE TABLE plain (id int PRIMARY KEY); INSERT INTO plain VALUES (1)",
    );
    const blocker = await h.sql.connect();
    try {
      await blocker.query("BEGIN");
      await blocker.query("SELECT * FROM plain"); // holds a lock that ALTER TABLE must wait for
      const response = await fetch(
        h.shapeRequestUrl({ table: h.table("plain"), offset: "-1" }),
      );
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      const body = (await response.json()) as { message: string };
      expect(body.message).toMatch(
        /REPLICA IDENTITY FULL.*could not be set.*migration/,
      );
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
    }
    const shape = new Shape(
      new ShapeStream({ url: h.shapeUrl, params: { table: h.table("plain") } }),
    );
    expect(await shape.rows).toEqual([{ id: 1 }]);
    shape.unsubscribeAll();
  }, 20_000);
});

describe("a table dropped while its shape is created", () => {
  test("a table dropped while its shape is being created answers 400 under table, as a missing table does", async ({
    h,
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "stages the race at our publication step (ALTER PUBLICATION … ADD TABLE)",
    );
    await h.sql.query(
      "CREATE TABLE doomed (id int PRIMARY KEY); ALTER TABLE doomed REPLICA IDENTITY FULL",
    );
    const dropper = await h.sql.connect();
    try {
      // Holds the table so the server's ALTER PUBLICATION … ADD TABLE waits for it; the table
      // is dropped under that wait, as when tables are dropped under clients.
      await dropper.query("BEGIN");
      await dropper.query("LOCK TABLE doomed IN ACCESS EXCLUSIVE MODE");
      const answer = fetch(
        h.shapeRequestUrl({ table: h.table("doomed"), offset: "-1" }),
      );
      await lockWaiters(h.sql, "doomed", 1);
      await dropper.query("DROP TABLE doomed");
      await dropper.query("COMMIT");
      const response = await answer;
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        message: "Invalid request",
        errors: {
          table: [
            'Table "public"."doomed" does not exist. If the table name contains capitals or special characters you must quote it.',
          ],
        },
      });
    } finally {
      await dropper.query("ROLLBACK").catch(() => undefined);
      dropper.release();
    }
  });
});
