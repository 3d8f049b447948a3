/**
 * Value encoding: every common column type reaches the official client exactly as Electric
 * encodes it (Postgres text output under Electric's session settings), identically from the
 * initial snapshot and from the replication stream, with the `electric-schema` header the
 * client's parsers rely on.
 */
import type { Row } from "@electric-sql/client";
import { Shape, ShapeStream } from "@electric-sql/client";
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Harness } from "./support/harness";
import {
  changeMessages,
  record,
  recordingFetch,
  startHarness,
} from "./support/harness";

let h: Harness;

const VALUES = `
  1, 2, 3.25, 1.5, 12.3, true, 'text ü "q"', 'vc', 'ab', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
  '2024-01-02', '03:04:05', '2024-01-02 03:04:05.123', '2024-01-02 04:04:05.123456+01',
  '1 year 2 months 3 days 04:05:06', '{"a": 1}', '{"b": [1, 2]}', '\\x0102', 'happy',
  '{1,2,NULL}', '{"a b",c,NULL}', NULL, 9007199254740993, 'NaN'`;

beforeAll(async () => {
  h = await startHarness();
  await h.sql.query(`
    CREATE TYPE mood AS ENUM ('sad', 'happy');
    CREATE TABLE typed (
      id int8 PRIMARY KEY, i2 int2, i4 int4, f4 float4, f8 float8, num numeric(10,2), b bool NOT NULL,
      t text, vc varchar(20), ch char(5), u uuid, d date, tm time, ts timestamp(3), tstz timestamptz,
      iv interval, j json, jb jsonb, by bytea, e mood, ai int4[], at text[], nul text, big int8,
      fnan float8
    );
    INSERT INTO typed VALUES (1, ${VALUES});
  `);
});

afterAll(async () => {
  await h.close();
});

const EXPECTED: Row = {
  i2: 1,
  i4: 2,
  f4: 3.25,
  f8: 1.5,
  num: "12.30",
  b: true,
  t: 'text ü "q"',
  vc: "vc",
  ch: "ab   ",
  u: "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
  d: "2024-01-02",
  tm: "03:04:05",
  ts: "2024-01-02 03:04:05.123",
  tstz: "2024-01-02 03:04:05.123456+00",
  iv: "P1Y2M3DT4H5M6S",
  j: { a: 1 },
  jb: { b: [1, 2] },
  by: "\\x0102",
  e: "happy",
  ai: [1, 2, null],
  at: ["a b", "c", null],
  nul: null,
  big: 9007199254740993n,
  fnan: NaN,
};

describe("value encoding", () => {
  test("snapshot rows and live rows carry the same Electric encoding", async () => {
    const { fetchClient, responses } = recordingFetch();
    const recorded = record({
      url: h.shapeUrl,
      params: { table: h.table("typed") },
      fetchClient,
    });
    await recorded.until((messages) => changeMessages(messages).length === 1);
    await h.write(`INSERT INTO typed VALUES (2, ${VALUES})`);
    await recorded.until((messages) => changeMessages(messages).length === 2);
    const [snapshotRow, liveRow] = changeMessages(recorded.messages).map(
      (m) => m.value,
    );
    expect(snapshotRow).toEqual({ id: 1n, ...EXPECTED });
    expect(liveRow).toEqual({ id: 2n, ...EXPECTED });
    recorded.stop();

    const schema = JSON.parse(
      responses
        .find((r) => r.headers.get("electric-schema"))
        ?.headers.get("electric-schema") ?? "{}",
    ) as Record<string, Record<string, unknown>>;
    expect(schema.id).toEqual({ type: "int8", pk_index: 0, not_null: true });
    expect(schema.b).toEqual({ type: "bool", not_null: true });
    expect(schema.num).toEqual({ type: "numeric", precision: 10, scale: 2 });
    expect(schema.vc).toEqual({ type: "varchar", max_length: 20 });
    expect(schema.ch).toEqual({ type: "bpchar", length: 5 });
    expect(schema.ts).toEqual({ type: "timestamp", precision: 3 });
    expect(schema.ai).toEqual({ type: "int4", dims: 1 });
    expect(schema.e).toEqual({ type: "mood" });
  });

  test("updates carry only changed columns (plus the key) and Shape merges them", async () => {
    const shape = new Shape(
      new ShapeStream({ url: h.shapeUrl, params: { table: h.table("typed") } }),
    );
    await shape.rows;
    const seen = new Promise<Row[]>((resolve) => {
      const unsubscribe = shape.subscribe(({ rows }) => {
        if (rows.some((row) => row.t === "changed")) {
          unsubscribe();
          resolve(rows);
        }
      });
    });
    await h.write("UPDATE typed SET t = 'changed', ai = '{}' WHERE id = 1");
    const rows = await seen;
    expect(rows.find((row) => row.id === 1n)).toEqual({
      id: 1n,
      ...EXPECTED,
      t: "changed",
      ai: [],
    });
    shape.unsubscribeAll();
  });
});
