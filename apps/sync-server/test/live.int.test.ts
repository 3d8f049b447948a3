/**
 * Live delivery through the official client: long-poll and SSE, whole transactions before
 * up-to-date, txids, resume from an offset, snapshot/stream hand-over without loss or
 * duplicates, column projection and replica=full.
 */
import type { Row } from "@electric-sql/client";
import { Shape, ShapeStream } from "@electric-sql/client";
import { describe, expect } from "vitest";

import { syncTest } from "./support/fixture";
import {
  changeMessages,
  isUpToDate,
  ourServerOnly,
  record,
  recordingFetch,
  startHarness,
  upToDateCount,
} from "./support/harness";

const test = syncTest;
let notes = "";

test.beforeAll(async ({ h, table }) => {
  notes = await table(
    "notes (id int PRIMARY KEY, body text NOT NULL, owner text NOT NULL DEFAULT 'ann', n int NOT NULL DEFAULT 0)",
  );
  await h.sql.query(`
    INSERT INTO notes (id, body) VALUES (1, 'first');
  `);
});

describe("live modes", () => {
  test("SSE (liveSse: true) delivers changes with txids and up-to-date after each transaction", async ({
    h,
  }) => {
    const { fetchClient, responses } = recordingFetch();
    const recorded = record({
      url: h.shapeUrl,
      params: { table: notes },
      liveSse: true,
      fetchClient,
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const xid = await h.write(
      "INSERT INTO notes (id, body) VALUES (100, 'sse')",
    );
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 100),
    );
    const change = changeMessages(recorded.messages).find(
      (m) => m.value.id === 100,
    );
    expect(change?.headers.txids).toEqual([xid]);
    const xid2 = await h.write(
      "UPDATE notes SET body = 'sse 2' WHERE id = 100",
    );
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.headers.txids?.[0] === xid2),
    );
    expect(
      responses.some((r) =>
        r.headers.get("content-type")?.startsWith("text/event-stream"),
      ),
    ).toBe(true);
    // Each SSE change is delivered once.
    expect(
      changeMessages(recorded.messages).filter((m) => m.value.id === 100),
    ).toHaveLength(2);
    recorded.stop();
  });

  test("long-poll: a 100-row transaction arrives whole, in one batch, before up-to-date", async ({
    h,
  }) => {
    const recorded = record({
      url: h.shapeUrl,
      params: { table: notes },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    const xid = await h.write(
      "INSERT INTO notes (id, body) SELECT g, 'bulk ' || g FROM generate_series(1000, 1099) g",
    );
    await recorded.until(
      (messages) =>
        changeMessages(messages).filter((m) => m.headers.txids?.[0] === xid)
          .length === 100,
    );
    const batch = recorded.batches.find((b) =>
      changeMessages(b).some((m) => m.headers.txids?.[0] === xid),
    );
    expect(
      changeMessages(batch ?? []).filter((m) => m.headers.txids?.[0] === xid),
    ).toHaveLength(100);
    expect(isUpToDate(batch?.[batch.length - 1] as never)).toBe(true);
    const ops = changeMessages(batch ?? []).filter(
      (m) => m.headers.txids?.[0] === xid,
    );
    expect(ops.filter((m) => m.headers.last === true)).toHaveLength(1);
    expect(ops[ops.length - 1]?.headers.last).toBe(true);
    expect(new Set(ops.map((m) => m.headers.lsn)).size).toBe(1);
    recorded.stop();
  });

  test("resume from a stored offset and handle gets only later changes", async ({
    h,
  }) => {
    const first = record({
      url: h.shapeUrl,
      params: { table: notes },
    });
    await first.until((messages) => upToDateCount(messages) >= 1);
    const offset = first.stream.lastOffset;
    const handle = first.stream.shapeHandle;
    first.stop();
    await h.write("INSERT INTO notes (id, body) VALUES (200, 'after')");
    const resumed = record({
      url: h.shapeUrl,
      params: { table: notes },
      offset,
      handle,
    });
    await resumed.until((messages) =>
      changeMessages(messages).some((m) => m.value.id === 200),
    );
    expect(changeMessages(resumed.messages).map((m) => m.value.id)).toEqual([
      200,
    ]);
    resumed.stop();
  });
});

describe("snapshot and stream hand-over", () => {
  test("a transaction open during the snapshot is delivered exactly once", async ({
    h,
  }) => {
    const writer = await h.sql.connect();
    try {
      await writer.query("BEGIN");
      const { rows } = await writer.query<{ txid: string }>(
        "SELECT pg_current_xact_id()::xid::text AS txid",
      );
      await writer.query(
        "INSERT INTO notes (id, body, owner) VALUES (300, 'in flight', 'zed')",
      );
      const recorded = record({
        url: h.shapeUrl,
        params: { table: notes, where: "owner = 'zed'" },
      });
      await recorded.until((messages) => upToDateCount(messages) >= 1);
      expect(changeMessages(recorded.messages)).toHaveLength(0);
      const snapshotEnd = recorded.messages.find(
        (m) => "control" in m.headers && m.headers.control === "snapshot-end",
      );
      // The open transaction is not visible in the snapshot (in xip_list or >= xmax).
      const headers = snapshotEnd?.headers as unknown as {
        xmax: string;
        xip_list: string[];
      };
      const txid = rows[0]?.txid ?? "";
      expect(
        BigInt(txid) >= BigInt(headers.xmax) || headers.xip_list.includes(txid),
      ).toBe(true);
      await writer.query("COMMIT");
      await recorded.until((messages) => changeMessages(messages).length === 1);
      expect(changeMessages(recorded.messages)[0]?.headers.txids).toEqual([
        Number(rows[0]?.txid),
      ]);
      recorded.stop();
    } finally {
      writer.release();
    }
  });

  test("writes racing with shape creation are neither lost nor duplicated", async ({
    h,
  }) => {
    const writing = new AbortController();
    let next = 5000;
    const writer = (async () => {
      while (!writing.signal.aborted) {
        await h.write(
          `INSERT INTO notes (id, body, owner) VALUES (${next++}, 'race', 'race')`,
        );
      }
    })();
    const shapes = [];
    for (let index = 0; index < 5; index++) {
      await new Promise((resolve) => setTimeout(resolve, 15));
      shapes.push(
        record({
          url: h.shapeUrl,
          params: {
            table: notes,
            where: `owner = 'race' AND n = ${index}`,
          },
        }),
      );
      // Same rows, different shape definitions (n = index only matches n = 0).
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    writing.abort();
    await writer;
    const { rows } = await h.sql.query<{ id: number }>(
      "SELECT id FROM notes WHERE owner = 'race' ORDER BY id",
    );
    const expected = rows.map((row) => row.id);
    const shape = shapes[0];
    if (!shape) throw new Error("no shape");
    await shape.until((messages) => {
      const inserted = changeMessages(messages).map((m) => Number(m.value.id));
      return inserted.length >= expected.length;
    });
    const inserted = changeMessages(shape.messages).map((m) =>
      Number(m.value.id),
    );
    expect(inserted.sort((a, b) => a - b)).toEqual(expected);
    for (const other of shapes.slice(1)) {
      await other.until((messages) => upToDateCount(messages) >= 1);
      expect(changeMessages(other.messages)).toHaveLength(0);
    }
    for (const recorded of shapes) recorded.stop();
  });
});

describe("columns and replica", () => {
  test("columns projects values and schema; replica=full sends whole rows and old_value", async ({
    h,
  }) => {
    const { fetchClient, responses } = recordingFetch();
    const recorded = record({
      url: h.shapeUrl,
      params: {
        table: notes,
        columns: ["id", "body"],
        replica: "full",
        where: "id = 1",
      },
      fetchClient,
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(changeMessages(recorded.messages).map((m) => m.value)).toEqual([
      { id: 1, body: "first" },
    ]);
    const schema = responses
      .find((r) => r.headers.get("electric-schema"))
      ?.headers.get("electric-schema");
    expect(Object.keys(JSON.parse(schema ?? "{}") as object).sort()).toEqual([
      "body",
      "id",
    ]);
    await h.write("UPDATE notes SET n = n + 1 WHERE id = 1"); // unselected column: no message
    await h.write("UPDATE notes SET body = 'changed' WHERE id = 1");
    await h.write("DELETE FROM notes WHERE id = 1");
    await recorded.until((messages) =>
      changeMessages(messages).some((m) => m.headers.operation === "delete"),
    );
    const live = changeMessages(recorded.messages).slice(1);
    expect(
      live.map((m) => [m.headers.operation, m.value, m.old_value]),
    ).toEqual([
      ["update", { id: 1, body: "changed" }, { body: "first" }],
      ["delete", { id: 1, body: "changed" }, undefined],
    ]);
    recorded.stop();
  });

  test("primary-key change becomes delete + insert; Shape ends with the new key only", async ({
    h,
  }) => {
    await h.write("INSERT INTO notes (id, body) VALUES (400, 'pk')");
    const shape = new Shape(
      new ShapeStream({
        url: h.shapeUrl,
        params: { table: notes, where: "body = 'pk'" },
      }),
    );
    expect((await shape.rows).map((row: Row) => row.id)).toEqual([400]);
    const changed = new Promise<Row[]>((resolve) => {
      shape.subscribe(({ rows }) => {
        if (rows.some((row) => row.id === 401)) resolve(rows);
      });
    });
    await h.write("UPDATE notes SET id = 401 WHERE id = 400");
    expect((await changed).map((row) => row.id)).toEqual([401]);
    shape.unsubscribeAll();
  });
});

describe("SSE reconnects", () => {
  test("changes across many short SSE connections arrive exactly once", async ({
    skip,
  }) => {
    ourServerOnly(
      { skip },
      "needs a 1.1 s SSE timeout (Electric closes SSE after 60 s)",
    );
    // Connections last 1.1 s (the client falls back to long-polling below 1 s), so the
    // writes below span several SSE reconnects.
    const quick = await startHarness({ sseTimeoutMs: 1_100 });
    try {
      await quick.sql.query(
        "CREATE TABLE ticks (id int PRIMARY KEY, n int NOT NULL); ALTER TABLE ticks REPLICA IDENTITY FULL",
      );
      const { fetchClient, responses } = recordingFetch();
      const recorded = record({
        url: quick.shapeUrl,
        params: { table: quick.table("ticks") },
        liveSse: true,
        fetchClient,
      });
      await recorded.until((messages) => upToDateCount(messages) >= 1);
      for (let index = 1; index <= 12; index++) {
        await quick.write(
          `INSERT INTO ticks VALUES (${index}, 0)`,
          `UPDATE ticks SET n = n + 1 WHERE id = ${index}`,
        );
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      await recorded.until(
        (messages) => changeMessages(messages).length >= 24,
        15_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 700));
      const changes = changeMessages(recorded.messages);
      expect(
        changes.map((m) => `${m.headers.operation}:${m.value.id as number}`),
      ).toEqual(
        Array.from({ length: 12 }, (_, i) => [
          `insert:${i + 1}`,
          `update:${i + 1}`,
        ]).flat(),
      );
      const sseResponses = responses.filter((r) =>
        r.headers.get("content-type")?.startsWith("text/event-stream"),
      );
      expect(sseResponses.length).toBeGreaterThanOrEqual(3);
      recorded.stop();
    } finally {
      await quick.close();
    }
  });
});
