import type { ChangeMessage, Row } from "@electric-sql/client";
import { Shape, ShapeStream } from "@electric-sql/client";
import { describe, expect } from "vitest";

import { syncTest as test } from "./support/fixture";
import { isUpToDate, record, upToDateCount } from "./support/harness";

let items = "";

test.beforeAll(async ({ h, table }) => {
  items = await table(
    "items (id int PRIMARY KEY, title text NOT NULL, done bool NOT NULL DEFAULT false)",
  );
  await h.sql.query(
    "INSERT INTO items VALUES (1, 'one', false), (2, 'two', true)",
  );
});

function changes(messages: unknown[]): ChangeMessage<Row>[] {
  return messages.filter(
    (message): message is ChangeMessage<Row> => "key" in (message as object),
  );
}

describe("initial sync and live changes through ShapeStream", () => {
  test("Shape resolves with the snapshot rows, parsed by the client", async ({
    h,
  }) => {
    const shape = new Shape(
      new ShapeStream({ url: h.shapeUrl, params: { table: items } }),
    );
    const rows = await shape.rows;
    expect(rows.sort((a, b) => Number(a.id) - Number(b.id))).toEqual([
      { id: 1, title: "one", done: false },
      { id: 2, title: "two", done: true },
    ]);
    shape.unsubscribeAll();
  });

  test("live insert/update/delete arrive with the writer's txid", async ({
    h,
  }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: items },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const xid = await h.write("INSERT INTO items VALUES (3, 'three', false)");
    await recorded.until((messages) =>
      changes(messages).some((m) => m.value.id === 3),
    );
    const xid2 = await h.write("UPDATE items SET done = true WHERE id = 3");
    const xid3 = await h.write("DELETE FROM items WHERE id = 1");
    await recorded.until((messages) =>
      changes(messages).some((m) => m.headers.operation === "delete"),
    );
    const live = changes(recorded.messages).filter((m) => m.headers.txids);
    expect(
      live.map((m) => [m.headers.operation, m.headers.txids, m.value]),
    ).toEqual([
      ["insert", [xid], { id: 3, title: "three", done: false }],
      ["update", [xid2], { id: 3, done: true }],
      ["delete", [xid3], { id: 1 }],
    ]);
    expect(
      isUpToDate(recorded.messages[recorded.messages.length - 1] as never),
    ).toBe(true);
    recorded.stop();
  });
});
