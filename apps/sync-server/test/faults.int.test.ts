/**
 * Faults: the replication connection dropping (as on a Postgres restart), clients vanishing
 * mid-request, and many shapes and clients at once. The server recovers without losing or
 * duplicating changes.
 */
import { afterAll, beforeAll, describe, expect, test } from "vitest";

import type { Harness } from "./support/harness";
import {
  changeMessages,
  ourServerOnly,
  record,
  startHarness,
  upToDateCount,
} from "./support/harness";

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.sql.query(`
    CREATE TABLE events (id int PRIMARY KEY, kind int NOT NULL, note text);
    ALTER TABLE events REPLICA IDENTITY FULL;
  `);
});

afterAll(async () => {
  await h.close();
});

describe("faults", () => {
  test("the replication connection is killed: the server reconnects and nothing is lost", async (ctx) => {
    ourServerOnly(
      ctx,
      "kills our server's replication connection (found by its slot) and reads its health",
    );
    const recorded = record({
      url: h.shapeUrl,
      params: { table: h.table("events") },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    await h.write("INSERT INTO events VALUES (1, 0, 'before')");
    await recorded.until((messages) => changeMessages(messages).length === 1);
    const walsender = async () =>
      (
        await h.sql.query<{ pid: number | null }>(
          "SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1",
          [`sync_${h.database.name}`],
        )
      ).rows[0]?.pid;
    const before = await walsender();
    expect(before).toBeTypeOf("number");
    await h.sql.query("SELECT pg_terminate_backend($1)", [before]);
    await h.write("INSERT INTO events VALUES (2, 0, 'during outage')");
    await h.write("INSERT INTO events VALUES (3, 0, 'after')");
    await recorded.until(
      (messages) => changeMessages(messages).length >= 3,
      15_000,
    );
    expect(changeMessages(recorded.messages).map((m) => m.value.id)).toEqual([
      1, 2, 3,
    ]);
    const health = await fetch(`${h.server.url}/v1/health`);
    expect(await health.json()).toEqual({ status: "active" });
    recorded.stop();
  });

  test("clients aborting mid-request leave the server serving", async () => {
    await h.write(
      "INSERT INTO events VALUES (900, -1, 'kept'), (901, -1, 'kept'), (902, -1, 'kept')",
    );
    const controllers = Array.from({ length: 50 }, () => new AbortController());
    const requests = controllers.map((controller) =>
      fetch(h.shapeRequestUrl({ table: h.table("events"), offset: "-1" }), {
        signal: controller.signal,
      })
        .then((response) => response.headers.get("electric-handle"))
        .then(async (handle) => {
          // Hold a live request, then vanish.
          const live = fetch(
            h.shapeRequestUrl({
              table: h.table("events"),
              offset: "0_inf",
              handle: handle ?? "",
              live: "true",
            }),
            { signal: controller.signal },
          );
          controller.abort();
          await live.catch(() => undefined);
        })
        .catch(() => undefined),
    );
    await Promise.all(requests);
    const recorded = record({
      url: h.shapeUrl,
      params: { table: h.table("events"), where: "kind = -1" },
    });
    await recorded.until((messages) => upToDateCount(messages) >= 1);
    expect(changeMessages(recorded.messages)).toHaveLength(3);
    recorded.stop();
  });

  test("50 shapes × 4 clients each get exactly their rows", async () => {
    const shapes = Array.from({ length: 50 }, (_, kind) =>
      Array.from({ length: 4 }, () =>
        record({
          url: h.shapeUrl,
          params: { table: h.table("events"), where: `kind = ${kind + 1}` },
        }),
      ),
    ).flat();
    await Promise.all(
      shapes.map((shape) =>
        shape.until((messages) => upToDateCount(messages) >= 1, 20_000),
      ),
    );
    await h.write(
      "INSERT INTO events SELECT 100 + g, 1 + g % 50, 'fan-out' FROM generate_series(0, 199) g",
    );
    await Promise.all(
      shapes.map((shape) =>
        shape.until(
          (messages) => changeMessages(messages).length === 4,
          20_000,
        ),
      ),
    );
    for (const [index, shape] of shapes.entries()) {
      const kind = Math.floor(index / 4) + 1;
      expect(
        changeMessages(shape.messages).every((m) => m.value.kind === kind),
      ).toBe(true);
    }
    for (const shape of shapes) shape.stop();
  });
});
